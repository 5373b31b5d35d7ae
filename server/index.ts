/** Boot: data directory, database, first-run seed, HTTP + Socket.IO on one port. */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as SocketServer } from 'socket.io';
import { ensureDemoSite } from '../seed/demo-site.js';
import { isSeeded, type SeedSummary, seedDemo } from '../seed/index.js';
import { createApp } from './app.js';
import { staffSessions } from './auth/session.js';
import { ConversationEvents } from './conversations/events.js';
import { AgentPresence } from './conversations/presence.js';
import { pingMongo } from './db/connection.js';
import { type Database, openDatabase } from './db/open.js';
import { type DemoPage, startDemoPage } from './demo-page.js';
import type { Env } from './env.js';
import { AdminJobs } from './jobs/admin-jobs.js';
import { listen } from './listen.js';
import { type Logger, silentLogger } from './logger.js';
import { ensureStarterModel } from './ml/starter.js';
import { rateLimiters } from './rate-limiter.js';
import { createRealtime, type Realtime } from './realtime/index.js';
import { connectRedis, type SharedRedis } from './redis.js';
import { activeVersionLabel } from './registry/active-version.js';
import { registerStarterVersion } from './registry/starter-version.js';
import { apiRoutes } from './routes/api/index.js';
import { loadSessionSecret } from './secrets.js';
import { type ChatEngine, startChatEngine } from './serving/engine.js';
import { findSiteByKey, widgetSiteConfig } from './sites/index.js';

export interface RunningParley {
  url: string;
  port: number;
  db: Database;
  io: SocketServer;
  /** The widget namespace (its bot replies can be awaited with `widget.replies.idle()`). */
  widget: Realtime['widget'];
  /** Live-conversation events (handoffs, messages) and which agents are online, in this process. */
  conversations: { events: ConversationEvents; presence: AgentPresence };
  /** The console's REST API and its endpoints with their access (for listing and policy tests). */
  api: ReturnType<typeof apiRoutes>;
  /** The demo company page embedding the widget from a second origin; null without PARLEY_DEMO. */
  demoUrl: string | null;
  sessionSecret: string;
  /**
   * Live chat replies from the active model version (hot-swapped on promotion or rollback, in any
   * process); `chat.status()` says whether a model is loaded and why not.
   */
  chat: ChatEngine;
  /** What the first-run seed did; null when nothing was seeded in this start. */
  seeded: SeedSummary | null;
  /** The Redis shared with other servers (REDIS_URL); null for a single process. */
  redis: SharedRedis | null;
  /** Disconnects sockets, stops HTTP, stops the chat engine's workers, closes Redis and the database (writing the embedded snapshot). */
  close(): Promise<void>;
}

export async function startParley(env: Env, options: { logger?: Logger } = {}): Promise<RunningParley> {
  const logger = options.logger ?? silentLogger;
  await mkdir(env.PARLEY_DATA_DIR, { recursive: true });
  const sessionSecret = await loadSessionSecret(env);
  const db = await openDatabase(env, { logger });
  let chat: ChatEngine | null = null;
  let redis: SharedRedis | null = null;

  try {
    if (env.REDIS_URL) {
      redis = await connectRedis(env.REDIS_URL, logger);
      if (db.mode !== 'external')
        logger.warn(
          'REDIS_URL is set but MONGODB_URI is not: this server keeps its conversations in its own embedded database, which other servers cannot read',
        );
      if (!env.SESSION_SECRET)
        logger.warn(
          'REDIS_URL is set but SESSION_SECRET is not: give every server the same SESSION_SECRET, or sign-ins and visitor tokens from one server are refused by the others',
        );
    }
    let seeded: SeedSummary | null = null;
    if (env.PARLEY_DEMO && !(await isSeeded(db.models))) {
      logger.info('first start: seeding the demo source and demo users');
      seeded = await seedDemo({
        connection: db.connection,
        models: db.models,
        dataDir: env.PARLEY_DATA_DIR,
        onProgress: (progress) => logger.info(progress, 'seeding demo source'),
      });
      logger.info({ ...seeded.source, durationMs: seeded.durationMs }, 'demo data seeded');
    }

    // No default passwords: the first admin comes from the CLI (or the demo seed outside production).
    if (!(await db.models.User.exists({ role: 'admin', disabledAt: null })))
      logger.warn(
        'no admin account yet: create one with `npx parley user add --email you@example.com --role admin`',
      );

    // A fresh Parley gets the shipped starter model as its base and its first version (v1). Without
    // it Parley still starts (and says on /healthz that there is no model to serve).
    try {
      if ((await ensureStarterModel(env)) !== 'custom') {
        const registered = await registerStarterVersion(db.models, env.PARLEY_BASE_MODEL);
        if (registered) logger.info({ version: registered }, 'starter model registered as the first version');
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not install the starter model');
    }

    // Reads the active version and starts loading it in the background: the server listens at
    // once and reports ready when the model is.
    const engine = await startChatEngine({
      models: db.models,
      baseModelDir: env.PARLEY_BASE_MODEL,
      systemPrompt: env.PARLEY_SYSTEM_PROMPT,
      workers: env.PARLEY_SERVING_WORKERS,
      backend: env.TFJS_BACKEND,
      runtime: env.PARLEY_SERVING_RUNTIME,
      pollIntervalMs: env.PARLEY_MODEL_POLL_MS,
      logger,
    });
    chat = engine;
    const conversations = { events: new ConversationEvents(), presence: new AgentPresence() };
    // Known once the server listens (PORT may be 0); embed snippets need it.
    let publicAddress = '';
    const sessions = staffSessions(db.models, sessionSecret);
    const jobs = new AdminJobs({ models: db.models, connection: db.connection, env, logger });
    const api = apiRoutes({
      models: db.models,
      sessions,
      events: conversations.events,
      maxMessageChars: env.PARLEY_WIDGET_MAX_MESSAGE_CHARS,
      loginAttemptsPerMinute: env.PARLEY_LOGIN_ATTEMPTS_PER_MINUTE,
      limiter: rateLimiters(redis?.client ?? null),
      env,
      publicUrl: () => env.PARLEY_PUBLIC_URL ?? publicAddress,
      refreshServing: () => {
        realtime.announceServingChange();
        return engine.refresh();
      },
      jobs,
    });
    const app = createApp({
      api: api.router,
      logger,
      isDatabaseUp: () => pingMongo(db.connection),
      activeModel: () => activeVersionLabel(db.models),
      serving: () => engine.status(),
      widgetLook: async (siteKey, locales) => {
        const site = await findSiteByKey(db.models, siteKey);
        if (!site || site.disabledAt) return null;
        const { locale, theme, texts } = widgetSiteConfig(site, locales, env.PARLEY_WIDGET_MAX_MESSAGE_CHARS);
        return { locale, theme, texts };
      },
    });
    const http = createServer(app);
    const realtime = createRealtime(http, {
      models: db.models,
      redis,
      servingChanged: () => {
        engine
          .refresh()
          .catch((error: unknown) => logger.warn({ err: error }, 'could not swap model versions'));
      },
      sessions,
      adminJobs: jobs.events,
      chat: engine,
      secret: sessionSecret,
      ...conversations,
      limits: {
        maxMessageChars: env.PARLEY_WIDGET_MAX_MESSAGE_CHARS,
        messagesPerMinute: env.PARLEY_WIDGET_MESSAGES_PER_MINUTE,
        connectionsPerMinute: env.PARLEY_WIDGET_CONNECTIONS_PER_MINUTE,
      },
      logger,
    });
    const { io, widget, agent } = realtime;
    const url = await listen(http, env.PORT, env.HOST);
    publicAddress = url;
    const { port } = http.address() as AddressInfo;
    logger.info({ url, database: db.mode }, 'Parley is listening');
    // Queued training runs here unless PARLEY_LOCAL_WORKER is off (then on `parley worker`s).
    jobs.start();
    logger.info(
      { localWorker: env.PARLEY_LOCAL_WORKER, artifacts: env.PARLEY_ARTIFACT_STORE },
      env.PARLEY_LOCAL_WORKER
        ? 'queued training runs here (and on any parley worker)'
        : 'queued training runs on parley worker processes only',
    );

    let demo: DemoPage | null = null;
    if (env.PARLEY_DEMO) {
      try {
        demo = await startDemoPage({
          host: env.HOST,
          port: env.PARLEY_DEMO_PORT ?? (env.PORT === 0 ? 0 : port + 1),
          parleyUrl: url,
          siteKeyFor: async (origin) => (await ensureDemoSite(db.models, origin)).publicKey,
        });
        logger.info({ url: demo.url }, 'demo site (embeds the widget from a second origin)');
      } catch (error) {
        logger.warn({ err: error }, 'could not start the demo site');
      }
    }

    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      db,
      io,
      widget,
      conversations,
      api,
      demoUrl: demo?.url ?? null,
      sessionSecret,
      chat: engine,
      seeded,
      redis,
      close() {
        closing ??= (async () => {
          logger.info('shutting down');
          // Tell every client first (reason "io server disconnect") and let the packets flush,
          // then close; idle keep-alive HTTP connections would otherwise hold the server open.
          const httpClosed = new Promise<void>((resolve) => http.once('close', () => resolve()));
          // Replies in progress stop unstored; their visitors reconnect and are answered there.
          widget.replies.close();
          io.disconnectSockets(true);
          await new Promise((resolve) => setImmediate(resolve));
          io.close();
          widget.detach();
          agent.detach();
          http.closeAllConnections();
          await httpClosed;
          await demo?.close();
          await jobs.close();
          await engine.close();
          await widget.replies.idle();
          await redis?.close();
          await db.close();
          logger.info('stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await chat?.close();
    await redis?.close();
    await db.close();
    throw error;
  }
}
