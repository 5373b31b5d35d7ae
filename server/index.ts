/** Boot: data directory, database, first-run seed, HTTP + Socket.IO on one port. */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as SocketServer } from 'socket.io';
import { isSeeded, type SeedSummary, seedDemo } from '../seed/index.js';
import { createApp } from './app.js';
import { pingMongo } from './db/connection.js';
import { type Database, openDatabase } from './db/open.js';
import type { Env } from './env.js';
import { type Logger, silentLogger } from './logger.js';
import { ensureStarterModel } from './ml/starter.js';
import { createRealtime } from './realtime/index.js';
import { activeVersionLabel } from './registry/active-version.js';
import { registerStarterVersion } from './registry/starter-version.js';
import { loadSessionSecret } from './secrets.js';
import { type ChatEngine, startChatEngine } from './serving/engine.js';

export interface RunningParley {
  url: string;
  port: number;
  db: Database;
  io: SocketServer;
  sessionSecret: string;
  /**
   * Live chat replies from the active model version (hot-swapped on promotion or rollback, in any
   * process); `chat.status()` says whether a model is loaded and why not.
   */
  chat: ChatEngine;
  /** What the first-run seed did; null when nothing was seeded in this start. */
  seeded: SeedSummary | null;
  /** Disconnects sockets, stops HTTP, stops the chat engine's workers, closes the database (writing the embedded snapshot). */
  close(): Promise<void>;
}

export async function startParley(env: Env, options: { logger?: Logger } = {}): Promise<RunningParley> {
  const logger = options.logger ?? silentLogger;
  await mkdir(env.PARLEY_DATA_DIR, { recursive: true });
  const sessionSecret = await loadSessionSecret(env);
  const db = await openDatabase(env, { logger });
  let chat: ChatEngine | null = null;

  try {
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
      pollIntervalMs: env.PARLEY_MODEL_POLL_MS,
      logger,
    });
    chat = engine;
    const app = createApp({
      logger,
      isDatabaseUp: () => pingMongo(db.connection),
      activeModel: () => activeVersionLabel(db.models),
      serving: () => engine.status(),
    });
    const http = createServer(app);
    const io = createRealtime(http, logger);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(env.PORT, env.HOST, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const { port } = http.address() as AddressInfo;
    const shownHost = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
    const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
    logger.info({ url, database: db.mode }, 'Parley is listening');

    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      db,
      io,
      sessionSecret,
      chat: engine,
      seeded,
      close() {
        closing ??= (async () => {
          logger.info('shutting down');
          // Tell every client first (reason "io server disconnect") and let the packets flush,
          // then close; idle keep-alive HTTP connections would otherwise hold the server open.
          const httpClosed = new Promise<void>((resolve) => http.once('close', () => resolve()));
          io.disconnectSockets(true);
          await new Promise((resolve) => setImmediate(resolve));
          io.close();
          http.closeAllConnections();
          await httpClosed;
          await engine.close();
          await db.close();
          logger.info('stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await chat?.close();
    await db.close();
    throw error;
  }
}
