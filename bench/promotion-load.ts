/**
 * Promotion under load: V visitors chat over real Socket.IO sockets (loopback) with Parley started
 * in-process on the shipped starter model, while an admin switches the live model every E seconds
 * for D seconds through the console API (POST /api/versions/v2/promote, then
 * POST /api/versions/rollback back to v1, and so on: the real promotion code path, gate included,
 * and the hot-swap it triggers). Two registered versions: v1 (the starter) and v2 (a copy of its
 * files in another directory, so each swap loads fresh workers from a different artifact).
 *
 * Each visitor holds one socket for the whole run and sends a message, waits for its streamed
 * reply, thinks, and sends the next, until the time is up and the last switch is live. A switch
 * is made on schedule, or as soon as the previous one went live when loading took longer than E
 * (so every switch is exercised, and the run can last longer than D). Reported: sockets dropped (a disconnect
 * the bench did not ask for, or a refused connection), errors (a failed ack, a reply:end without a
 * stored reply, a handoff, a promotion or rollback that failed or did not go live, a warning or
 * error the server logged), messages lost (as in bench/widget-load.ts: acked but not stored exactly
 * once, or no reply) and duplicated (a second reply to one message, on the socket or in MongoDB),
 * p99 first token against the engine alone and against replies that overlapped no swap, the
 * event-loop delay p99 against the idle loop's, and the replies each version wrote.
 * Exits 1 when anything was dropped, errored, lost or duplicated.
 *
 *   npx tsx bench/promotion-load.ts [--visitors 100] [--duration 120] [--every 10] [--workers 2]
 *                                   [--think-ms 4000] [--reply-timeout 300] [--seed 1] [--report FILE]
 *
 * --duration: seconds during which visitors send and versions switch (replies in flight finish);
 * --every: seconds between two switches; --think-ms: mean pause between a reply and the next
 * message (uniform 0 to twice this); --report FILE: also writes a BenchReport (bench/report.ts).
 */
import { cp } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createUser } from '../server/auth/users.js';
import { seededRandom } from '../server/seeded-random.js';
import { createSite } from '../server/sites/index.js';
import { ApiClient } from '../tests/support/api-client.js';
import { clientMessageId, connectVisitor, type VisitorSocket } from '../tests/support/widget-client.js';
import { type BenchRow, reproduceCommand, writeReport } from './report.js';
import {
  engineReference,
  lostReasons,
  mb,
  ms,
  newSent,
  ORIGIN,
  percentile,
  type Sent,
  sendAndWait,
  sleep,
  startBenchParley,
  storedMessages,
  TEXTS,
} from './widget-visitors.js';

const { values } = parseArgs({
  options: {
    visitors: { type: 'string', default: '100' },
    duration: { type: 'string', default: '120' },
    every: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    'think-ms': { type: 'string', default: '4000' },
    'reply-timeout': { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    report: { type: 'string' },
  },
});
const positive = (flag: string, text: string, integer = true) => {
  const n = Number(text);
  if (!(n > 0 && (!integer || Number.isInteger(n))))
    throw new Error(`--${flag}: expected a ${integer ? 'whole ' : ''}number > 0, got "${text}"`);
  return n;
};
const visitors = positive('visitors', values.visitors!);
const durationMs = positive('duration', values.duration!, false) * 1000;
const everyMs = positive('every', values.every!, false) * 1000;
const workers = positive('workers', values.workers!);
const thinkMs = Number(values['think-ms']);
if (!(thinkMs >= 0)) throw new Error(`--think-ms: expected a number >= 0, got "${values['think-ms']}"`);
const replyTimeoutMs = positive('reply-timeout', values['reply-timeout']!, false) * 1000;
const random = seededRandom(Number(values.seed));
const TARGET_FIRST_TOKEN_MS = 1000;
const TARGET_LOOP_DELAY_MS = 50;
/** How long a switch may take to go live before it counts as an error. */
const SWAP_LIVE_TIMEOUT_MS = 30_000;
const ADMIN = { email: 'bench-admin@x.example', password: 'bench admin password' };

/** The server's warnings and errors (pino JSON lines at level >= 40), counted and kept. */
const serverProblems: { level: number; msg: string }[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } };
        if (entry.level >= 40)
          serverProblems.push({
            level: entry.level,
            msg: `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`,
          });
      } catch {
        serverProblems.push({ level: 50, msg: line });
      }
    }
    done();
  },
});
const logger = pino({ level: 'warn', base: undefined }, logStream);

const { running, bootSeconds, dataDir, cleanup } = await startBenchParley({
  workers,
  logger,
  env: {
    PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000',
    PARLEY_SERVING_RUNTIME: process.env.PARLEY_SERVING_RUNTIME ?? 'auto',
  },
});
let failed = true;
try {
  const { models } = running.db;
  // v2: the starter's files copied elsewhere, with v1's metrics, so the gate lets either through.
  const v1 = await models.ModelVersion.findOne({ version: 'v1' }).lean();
  if (!v1) throw new Error('no v1: the starter model was not registered');
  const v2Dir = path.join(dataDir, 'models', 'starter-copy');
  await cp(v1.artifactPath, v2Dir, { recursive: true });
  await models.ModelVersion.create({
    version: 'v2',
    artifactPath: v2Dir,
    baseModel: v1.baseModel,
    ...(v1.architecture ? { architecture: v1.architecture } : {}),
    ...(v1.metrics ? { metrics: v1.metrics } : {}),
  });
  await createUser(models, { email: ADMIN.email, name: 'Bench', role: 'admin', password: ADMIN.password });
  const admin = new ApiClient(running.url);
  const login = await admin.login(ADMIN.email, ADMIN.password);
  if (login.status !== 200)
    throw new Error(`admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const site = await createSite(models, { name: 'bench-promotion', origins: [ORIGIN], handoffThreshold: 0 });

  const status = running.chat.status();
  const reference = await engineReference(running, 3);
  const idle = monitorEventLoopDelay({ resolution: 10 });
  idle.enable();
  await sleep(2000);
  idle.disable();
  const idleDelay = { p99: idle.percentile(99) / 1e6, max: idle.max / 1e6 };
  const baseRss = process.memoryUsage.rss();
  const problemsBefore = serverProblems.length;

  console.log(
    `promotion-load bench: ${visitors} visitors for ${durationMs / 1000} s, a switch v1 <-> v2 every ${everyMs / 1000} s ` +
      `through the console API; starter model (${status.version}) on ${status.workers} worker(s), ${status.backend} backend; ` +
      `think time mean ${thinkMs} ms, reply timeout ${replyTimeoutMs / 1000} s; node ${process.version}; ` +
      `ready after ${bootSeconds.toFixed(1)} s; load average ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}`,
  );
  console.log(
    `reference: engine alone (no socket, no DB) first token p50 ${ms(reference.firstTokenMs.p50)}, full reply p50 ` +
      `${ms(reference.fullReplyMs.p50)}; idle event-loop delay p99 ${ms(idleDelay.p99)}; RSS with the model loaded ${mb(baseRss)}`,
  );

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let peakRss = process.memoryUsage.rss();
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 250);
  const started = performance.now();
  const deadline = started + durationMs;

  // Visitors.
  const all: Sent[] = [];
  const sockets: VisitorSocket[] = [];
  const connectFailures: string[] = [];
  const drops: string[] = [];
  /** reply:end events per replyId, over every socket: more than one is a duplicate on the wire. */
  const replyEnds = new Map<string, number>();
  let closing = false;
  const visitor = async (index: number) => {
    await sleep((index * 2000) / visitors); // arrive over the first 2 s
    let connected: Awaited<ReturnType<typeof connectVisitor>>;
    try {
      connected = await connectVisitor(running.url, { siteKey: site.publicKey, origin: ORIGIN });
    } catch (error) {
      connectFailures.push((error as Error).message);
      return;
    }
    const { socket, session } = connected;
    sockets.push(socket);
    socket.on('disconnect', (reason) => {
      if (!closing) drops.push(`visitor ${index}: ${reason}`);
    });
    socket.on('reply:end', (event) => replyEnds.set(event.replyId, (replyEnds.get(event.replyId) ?? 0) + 1));
    for (let m = 0; ; m++) {
      await sleep(m === 0 ? random() * 1000 : random() * 2 * thinkMs);
      // Visitors keep chatting until the last switch is live, so that every switch happens under load.
      if ((performance.now() >= deadline && !switching) || socket.disconnected) return;
      const sent = newSent(index, session.conversationId, clientMessageId());
      all.push(sent);
      await sendAndWait(socket, sent, TEXTS[(index + m) % TEXTS.length]!, replyTimeoutMs);
      // After a timeout a late reply could be taken for the next one's: this visitor leaves.
      if (sent.timedOut || !sent.ended) return;
    }
  };

  // The admin: promote v2, roll back to v1, promote v2, … every `everyMs` until the deadline.
  interface Switch {
    action: 'promote v2' | 'rollback';
    target: string;
    at: number;
    /** The version serving when the switch was asked for (the target itself when the last switch never went live). */
    servingBefore: string | null;
    status: number;
    apiMs: number;
    /** From the request to the engine serving the target; null: not within SWAP_LIVE_TIMEOUT_MS. */
    liveMs: number | null;
    /** Why it was not live in time (still loading): slow, not an error. */
    slow: string | null;
    /** The request failed, or loading the target failed. */
    error: string | null;
  }
  const switches: Switch[] = [];
  let switching = true;
  const admin$ = (async () => {
    for (let tick = 1; ; tick++) {
      // On schedule, or as soon as the previous switch went live (or timed out) when loading took longer.
      await sleep(Math.max(0, started + tick * everyMs - performance.now()));
      if (performance.now() >= deadline) break;
      const promote = tick % 2 === 1;
      const sw: Switch = {
        action: promote ? 'promote v2' : 'rollback',
        target: promote ? 'v2' : 'v1',
        at: performance.now(),
        servingBefore: running.chat.status().version,
        status: 0,
        apiMs: 0,
        liveMs: null,
        slow: null,
        error: null,
      };
      const askedAt = Date.now();
      switches.push(sw);
      try {
        const response = promote
          ? await admin.request('POST', '/versions/v2/promote', {})
          : await admin.request('POST', '/versions/rollback', {});
        sw.status = response.status;
        sw.apiMs = performance.now() - sw.at;
        if (response.status !== 200) sw.error = `HTTP ${response.status}: ${JSON.stringify(response.body)}`;
        else if ((response.body as { version?: string }).version !== sw.target)
          sw.error = `answered ${JSON.stringify(response.body)}, expected ${sw.target}`;
      } catch (error) {
        sw.error = (error as Error).message;
      }
      while (sw.error === null && performance.now() - sw.at < SWAP_LIVE_TIMEOUT_MS) {
        const now = running.chat.status();
        if (now.version === sw.target && now.ready) {
          sw.liveMs = performance.now() - sw.at;
          break;
        }
        if (now.lastError?.version === sw.target && Date.parse(now.lastError.at) >= askedAt)
          sw.error = `loading ${sw.target} failed: ${now.lastError.message}`;
        else await sleep(50);
      }
      if (sw.error === null && sw.liveMs === null) {
        const now = running.chat.status();
        const draining = now.replies.filter((r) => !r.live).reduce((sum, r) => sum + r.inProgress, 0);
        sw.slow =
          `not serving ${sw.target} within ${SWAP_LIVE_TIMEOUT_MS / 1000} s: ${now.version} serves, ` +
          `${now.loading ? `${now.loading} still loading` : 'nothing loading'}, ${draining} replies draining on replaced versions`;
      }
    }
    switching = false;
  })();

  await Promise.all([admin$, ...Array.from({ length: visitors }, (_, i) => visitor(i))]);
  const seconds = (performance.now() - started) / 1000;
  // Replies still queued (after timeouts) finish before the database is read.
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    running.widget.replies.idle(),
    new Promise((resolve) => {
      drainTimer = setTimeout(resolve, replyTimeoutMs);
    }),
  ]);
  clearTimeout(drainTimer);
  clearInterval(rssTimer);
  delay.disable();
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const loopDelay = {
    p50: delay.percentile(50) / 1e6,
    p99: delay.percentile(99) / 1e6,
    max: delay.max / 1e6,
  };

  // What MongoDB holds.
  const stored = await storedMessages(running, [...new Set(all.map((s) => s.conversationId))]);
  closing = true;
  for (const socket of sockets) socket.close();

  const lostWhy: Record<string, number> = {};
  let lost = 0;
  for (const sent of all) {
    const why = lostReasons(sent, stored, replyTimeoutMs);
    if (why.length > 0) lost += 1;
    for (const reason of why) lostWhy[reason] = (lostWhy[reason] ?? 0) + 1;
  }
  // Duplicates: a reply:end delivered twice, or two bot messages answering one visitor message.
  let duplicated = [...replyEnds.values()].filter((n) => n > 1).length;
  const repliesPerVersion: Record<string, number> = {};
  for (const messages of stored.values()) {
    let botsSinceCustomer = 0;
    for (const m of messages) {
      if (m.role === 'customer') botsSinceCustomer = 0;
      else if (m.role === 'bot') {
        botsSinceCustomer += 1;
        if (botsSinceCustomer > 1) duplicated += 1;
        const version = m.modelVersion ?? 'unknown';
        repliesPerVersion[version] = (repliesPerVersion[version] ?? 0) + 1;
      }
    }
  }

  const errors: string[] = [];
  for (const s of all) {
    if (s.ack && !s.ack.ok) errors.push(`ack not ok: ${s.ack.error}`);
    if (s.ackError) errors.push(`no ack: ${s.ackError}`);
    if (s.ended && !s.reply) errors.push('reply:end without a stored reply');
    if (s.handoff) errors.push(`handoff (${s.handoff})`);
  }
  for (const sw of switches) if (sw.error) errors.push(`${sw.action}: ${sw.error}`);
  for (const p of serverProblems.slice(problemsBefore))
    errors.push(`server ${p.level >= 50 ? 'error' : 'warning'}: ${p.msg}`);
  const dropped = drops.length + connectFailures.length;

  // First token of replies that overlapped a switch (request to live) against those that did not.
  const answered = all.filter((s) => s.ended && s.reply && s.firstTokenMs !== null);
  const overlapsSwitch = (s: Sent) =>
    switches.some((sw) => s.sentAt <= sw.at + (sw.liveMs ?? sw.apiMs) && s.sentAt + (s.fullMs ?? 0) >= sw.at);
  const sortedFirst = (list: Sent[]) => list.map((s) => s.firstTokenMs!).sort((a, b) => a - b);
  const firstAll = sortedFirst(answered);
  const firstSwap = sortedFirst(answered.filter(overlapsSwitch));
  const firstCalm = sortedFirst(answered.filter((s) => !overlapsSwitch(s)));
  const full = answered.map((s) => s.fullMs!).sort((a, b) => a - b);
  // Time to live of the switches that had something to load (not those finding their target serving).
  const live = switches
    .filter((sw) => sw.liveMs !== null && sw.servingBefore !== sw.target)
    .map((sw) => sw.liveMs!);
  live.sort((a, b) => a - b);
  const liveInTime = switches.filter((sw) => sw.liveMs !== null).length;
  const slow = switches.filter((sw) => sw.slow !== null);
  const alreadyServing = switches.filter((sw) => sw.servingBefore === sw.target).length;

  console.log('');
  console.log(`| figure | value |`);
  console.log(`|---|---:|`);
  const table: [string, string][] = [
    ['visitors connected / asked', `${sockets.length} / ${visitors}`],
    ['messages sent / answered', `${all.length} / ${answered.length}`],
    [
      `switches (promote v2, rollback) live within ${SWAP_LIVE_TIMEOUT_MS / 1000} s / made`,
      `${liveInTime} / ${switches.length}${alreadyServing ? ` (${alreadyServing} found the target already serving)` : ''}`,
    ],
    [
      'switch: request to serving p50 / max',
      `${ms(percentile(live, 50))} / ${ms(live.at(-1) ?? Number.NaN)}`,
    ],
    ['sockets dropped (must be 0)', String(dropped)],
    ['errors (must be 0)', String(errors.length)],
    ['messages lost (must be 0)', String(lost)],
    ['messages duplicated (must be 0)', String(duplicated)],
    ['first token p50 / p99', `${ms(percentile(firstAll, 50))} / ${ms(percentile(firstAll, 99))}`],
    [
      'first token p99 overlapping a switch / not',
      `${ms(percentile(firstSwap, 99))} (${firstSwap.length}) / ${ms(percentile(firstCalm, 99))} (${firstCalm.length})`,
    ],
    ['full reply p50 / p99', `${ms(percentile(full, 50))} / ${ms(percentile(full, 99))}`],
    ['replies/s', (answered.length / seconds).toFixed(2)],
    [
      'event-loop delay p50 / p99 / max',
      `${ms(loopDelay.p50)} / ${ms(loopDelay.p99)} / ${ms(loopDelay.max)}`,
    ],
    ['peak RSS', mb(peakRss)],
    [
      'replies per version',
      Object.entries(repliesPerVersion)
        .sort()
        .map(([v, n]) => `${v}: ${n}`)
        .join(', ') || '-',
    ],
    ['seconds', seconds.toFixed(1)],
  ];
  for (const [name, value] of table) console.log(`| ${name} | ${value} |`);
  const listed = (items: string[]) => {
    const counts = new Map<string, number>();
    for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
    return [...counts]
      .slice(0, 10)
      .map(([what, n]) => `${n}x ${what}`)
      .join('; ');
  };
  if (dropped > 0)
    console.log(`DROPPED: ${listed([...connectFailures.map((m) => `refused: ${m}`), ...drops])}`);
  if (errors.length > 0) console.log(`ERRORS: ${listed(errors)}`);
  if (lost > 0)
    console.log(
      `LOST: ${Object.entries(lostWhy)
        .map(([why, n]) => `${n}x ${why}`)
        .join('; ')}`,
    );
  for (const sw of switches)
    console.log(
      `  ${((sw.at - started) / 1000).toFixed(1).padStart(6)} s  ${sw.action.padEnd(10)} HTTP ${sw.status} in ${ms(sw.apiMs)}, ` +
        `serving ${sw.target} after ${sw.liveMs === null ? 'never' : ms(sw.liveMs)}${sw.servingBefore === sw.target ? ' (already serving)' : ''}` +
        `${sw.slow ? `  SLOW ${sw.slow}` : ''}${sw.error ? `  ERROR ${sw.error}` : ''}`,
    );

  const zero = (
    name: string,
    value: number,
    of: { label: string; value: number; unit: string },
    note?: string,
  ) =>
    ({
      name,
      figure: { label: name.replace(/^(sockets|messages) /, ''), value, unit: '' },
      reference: of,
      goal: { text: '0', met: value === 0 },
      ...(note ? { note } : {}),
    }) satisfies BenchRow;
  const rows: BenchRow[] = [
    zero('sockets dropped', dropped, { label: 'sockets opened', value: visitors, unit: 'sockets' }),
    zero(
      'errors',
      errors.length,
      { label: 'messages sent', value: all.length, unit: 'messages' },
      errors.length > 0 ? listed(errors) : undefined,
    ),
    zero('messages lost', lost, { label: 'messages sent', value: all.length, unit: 'messages' }),
    zero('messages duplicated', duplicated, { label: 'messages sent', value: all.length, unit: 'messages' }),
    {
      name: `switches serving their version within ${SWAP_LIVE_TIMEOUT_MS / 1000} s`,
      figure: { label: 'live in time', value: liveInTime, unit: 'switches' },
      reference: { label: 'made', value: switches.length, unit: 'switches' },
      goal: { text: 'all', met: switches.length > 0 && liveInTime === switches.length },
      note:
        `request to serving p50 ${ms(percentile(live, 50))}, max ${ms(live.at(-1) ?? Number.NaN)}` +
        `${slow.length ? `; ${slow.length} still loading after ${SWAP_LIVE_TIMEOUT_MS / 1000} s (slow, not failed)` : ''}` +
        `${alreadyServing ? `; ${alreadyServing} found the target already serving (the switch before had not gone live)` : ''}`,
    },
    {
      name: 'p99 first token, whole run',
      figure: { label: 'p99 first token over the widget', value: percentile(firstAll, 99), unit: 'ms' },
      reference: { label: 'engine alone, first token p50', value: reference.firstTokenMs.p50, unit: 'ms' },
      ratio: { value: percentile(firstAll, 99) / reference.firstTokenMs.p50, meaning: 'x the engine alone' },
      goal: { text: `< ${TARGET_FIRST_TOKEN_MS} ms`, met: percentile(firstAll, 99) < TARGET_FIRST_TOKEN_MS },
      note: `p50 ${ms(percentile(firstAll, 50))}; full reply p99 ${ms(percentile(full, 99))}; ${(answered.length / seconds).toFixed(2)} replies/s`,
    },
    {
      name: 'p99 first token, replies overlapping a switch',
      figure: {
        label: `overlapping (${firstSwap.length} replies)`,
        value: percentile(firstSwap, 99),
        unit: 'ms',
      },
      reference: {
        label: `overlapping none (${firstCalm.length})`,
        value: percentile(firstCalm, 99),
        unit: 'ms',
      },
      ratio: {
        value: percentile(firstSwap, 99) / percentile(firstCalm, 99),
        meaning: 'x away from a switch',
      },
    },
    {
      name: 'event-loop lag p99',
      figure: { label: 'loop delay p99 under load', value: loopDelay.p99, unit: 'ms' },
      reference: { label: 'idle loop delay p99', value: idleDelay.p99, unit: 'ms' },
      ratio: { value: loopDelay.p99 / idleDelay.p99, meaning: 'x idle' },
      goal: { text: `<= ${TARGET_LOOP_DELAY_MS} ms`, met: loopDelay.p99 <= TARGET_LOOP_DELAY_MS },
      note: `max ${ms(loopDelay.max)}; peak RSS ${mb(peakRss)} (${mb(baseRss)} with the model loaded)`,
    },
    ...Object.entries(repliesPerVersion)
      .sort()
      .map(
        ([version, n]): BenchRow => ({
          name: `replies written by ${version}`,
          figure: { label: version, value: n, unit: 'replies' },
          reference: { label: 'replies stored', value: answered.length, unit: 'replies' },
          ratio: { value: n / answered.length, meaning: 'share' },
        }),
      ),
  ];
  await writeReport(values.report, {
    bench: 'bench/promotion-load.ts',
    title: 'Chat widget while versions are promoted',
    command: reproduceCommand('bench/promotion-load.ts'),
    setup:
      `${visitors} visitors (real Socket.IO clients on loopback, in the server's process) chatting for ${durationMs / 1000} s, ` +
      `think time mean ${thinkMs} ms; every ${everyMs / 1000} s an admin promotes v2 or rolls back to v1 through the console API; ` +
      `starter model on ${status.workers} generation worker(s), ${status.backend} backend, embedded MongoDB`,
    rows,
    details: [
      '| at | switch | HTTP | API answered | serving after | what happened |',
      '|---:|---|---:|---:|---:|---|',
      ...switches.map(
        (sw) =>
          `| ${((sw.at - started) / 1000).toFixed(1)} s | ${sw.action} | ${sw.status} | ${ms(sw.apiMs)} | ` +
          `${sw.liveMs === null ? 'not in time' : ms(sw.liveMs)}${sw.servingBefore === sw.target ? ' (already serving)' : ''} | ` +
          `${sw.error ?? sw.slow ?? ''} |`,
      ),
    ],
  });
  failed = dropped > 0 || errors.length > 0 || lost > 0 || duplicated > 0;
} finally {
  await cleanup();
}
if (failed) process.exitCode = 1;
