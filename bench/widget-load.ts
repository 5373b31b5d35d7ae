/**
 * Widget load: N simulated visitors on real Socket.IO sockets (loopback), each sending M messages
 * and waiting for the bot's streamed reply to each before the next (after a small random think
 * time), against Parley started in-process with the shipped starter model. Per ladder step: time to
 * first token and to the full reply (p50/p99, measured from the moment the visitor sends, so the
 * ack's round trip is included), lost messages (ack not ok, no reply:end within the timeout, a
 * reply:end without a stored reply, or MongoDB not holding the acked message exactly once or the
 * reply at all: must be 0), the server's event-loop delay p99 and peak RSS. Prints the largest N
 * whose p99 time to first token stays under 1 s.
 *
 * Reference figures printed first: the chat engine answering directly (no socket, no database),
 * the event loop's delay with nothing to do, and RSS once the model is loaded.
 *
 * The visitors run in the server's process (as do the embedded database and the generation worker
 * threads), so the loop delay and RSS include the clients' share; on a small machine the latency
 * figures are an upper bound for a server whose visitors are elsewhere.
 *
 *   npx tsx bench/widget-load.ts [--visitors 1,5,10,20,40,80] [--messages 3] [--workers 2]
 *                                [--step-seconds 20] [--think-ms 250] [--reply-timeout 30]
 *                                [--stop-above-ms 5000] [--seed 1] [--json]
 *
 * --step-seconds: no visitor starts a new message after this (replies in flight still finish);
 * --stop-above-ms: skip the larger steps once a step's p99 first token is above this (0: never);
 * --json: the JSON summary on stdout, the table on stderr.
 */
import { loadavg } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ObjectId } from 'mongodb';
import { type RunningParley, startParley } from '../server/index.js';
import type { Ack, SendMessageResult, WidgetMessage } from '../server/realtime/widget/protocol.js';
import { seededRandom } from '../server/seeded-random.js';
import { createSite } from '../server/sites/index.js';
import { tempDataDir, testEnv } from '../tests/support/env.js';
import { clientMessageId, connectVisitor, type VisitorSocket } from '../tests/support/widget-client.js';

const { values } = parseArgs({
  options: {
    visitors: { type: 'string', default: '1,5,10,20,40,80' },
    messages: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    'step-seconds': { type: 'string', default: '20' },
    'think-ms': { type: 'string', default: '250' },
    'reply-timeout': { type: 'string', default: '30' },
    'stop-above-ms': { type: 'string', default: '5000' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

const positiveInt = (flag: string, text: string) => {
  const n = Number(text);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`--${flag}: expected an integer >= 1, got "${text}"`);
  return n;
};
const ladder = [...new Set(values.visitors!.split(',').map((n) => positiveInt('visitors', n.trim())))].sort(
  (a, b) => a - b,
);
const messagesEach = positiveInt('messages', values.messages!);
const workers = positiveInt('workers', values.workers!);
const stepMs = positiveInt('step-seconds', values['step-seconds']!) * 1000;
const thinkMs = Number(values['think-ms']);
const replyTimeoutMs = positiveInt('reply-timeout', values['reply-timeout']!) * 1000;
const stopAboveMs = Number(values['stop-above-ms']);
const random = seededRandom(Number(values.seed));
const TARGET_FIRST_TOKEN_MS = 1000;
const ORIGIN = 'https://shop.example';

/** Everything goes to stdout, except with --json, where stdout carries the JSON summary alone. */
const print = (line: string) => (values.json ? console.error(line) : console.log(line));

const TEXTS = [
  'Hi, where is my order?',
  'I would like to check my account balance',
  'Can I change my booking to Friday?',
  'My card was charged twice this month',
  'How do I reset my password?',
  'The package arrived damaged, what can I do?',
  'Do you ship to Canada?',
  'I want a refund for my last purchase',
  'My train ticket shows the wrong date',
  'Can you tell me when the store opens?',
];

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : '-');
const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
const sleep = (delay: number) => new Promise((resolve) => setTimeout(resolve, delay));

/** One visitor message and what became of it. */
interface Sent {
  visitor: number;
  conversationId: string;
  clientMessageId: string;
  ackMs: number | null;
  ack: Ack<SendMessageResult> | null;
  /** The ack never came (timeout or disconnect). */
  ackError: string | null;
  firstTokenMs: number | null;
  fullMs: number | null;
  /** reply:end arrived; `reply` is its stored message (null: nothing stored). */
  ended: boolean;
  reply: WidgetMessage | null;
  streamed: string;
  timedOut: boolean;
  /** A handoff event while this message waited (the bot stops answering). */
  handoff: string | null;
}

/** Why a message counts as lost; empty when it was answered and stored. */
function lostReasons(sent: Sent, stored: Map<string, { role: string; id: string }[]>): string[] {
  const reasons: string[] = [];
  if (sent.ackError) reasons.push(`no ack (${sent.ackError})`);
  else if (sent.ack && !sent.ack.ok) reasons.push(`ack not ok (${sent.ack.error})`);
  else if (sent.ack?.ok && sent.ack.duplicate) reasons.push('acked as a duplicate');
  if (sent.ack?.ok) {
    const messages = stored.get(sent.conversationId) ?? [];
    const customerId = sent.ack.message.id;
    const copies = messages.filter((m) => m.id === customerId && m.role === 'customer').length;
    if (copies !== 1) reasons.push(`acked message stored ${copies} times`);
    if (sent.timedOut) {
      // Late or never? Read after the replies drained: a bot message after the visitor's one.
      const at = messages.findIndex((m) => m.id === customerId);
      const late = at >= 0 && messages.slice(at + 1).some((m) => m.role === 'bot');
      reasons.push(
        `no reply:end within ${replyTimeoutMs / 1000} s (${late ? 'reply stored later' : 'no reply stored after the drain either'})`,
      );
    } else if (sent.ended && !sent.reply) reasons.push('reply:end without a stored reply');
    else if (!sent.ended) reasons.push('no reply (socket closed)');
    if (sent.reply && !messages.some((m) => m.id === sent.reply!.id && m.role === 'bot'))
      reasons.push('reply:end message not in the database');
  }
  return reasons;
}

/** Sends one message and waits for its reply (or the timeout). */
async function sendAndWait(socket: VisitorSocket, sent: Sent, text: string): Promise<void> {
  let replyId: string | null = null;
  let start = 0;
  let finish: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onStart = (event: { replyId: string }) => {
    replyId ??= event.replyId;
  };
  const onToken = (event: { replyId: string; delta: string }) => {
    if (event.replyId !== replyId) return;
    sent.firstTokenMs ??= performance.now() - start;
    sent.streamed += event.delta;
  };
  const onEnd = (event: { replyId: string; message: WidgetMessage | null }) => {
    if (event.replyId !== replyId) return;
    sent.fullMs = performance.now() - start;
    sent.ended = true;
    sent.reply = event.message;
    finish();
  };
  const onHandoff = (state: { reason: string | null }) => {
    sent.handoff = state.reason ?? 'unknown';
  };
  const onDisconnect = () => finish();
  const timer = setTimeout(() => {
    sent.timedOut = true;
    finish();
  }, replyTimeoutMs);
  // Listening before sending: reply:start may overtake the ack.
  socket.on('reply:start', onStart);
  socket.on('reply:token', onToken);
  socket.on('reply:end', onEnd);
  socket.on('handoff', onHandoff);
  socket.on('disconnect', onDisconnect);
  try {
    start = performance.now();
    try {
      sent.ack = await socket
        .timeout(replyTimeoutMs)
        .emitWithAck('message:send', { clientMessageId: sent.clientMessageId, text });
      sent.ackMs = performance.now() - start;
    } catch (error) {
      sent.ackError = (error as Error).message;
    }
    // No reply is coming for a refused or duplicate message.
    if (sent.ack?.ok && !sent.ack.duplicate) await answered;
  } finally {
    clearTimeout(timer);
    socket.off('reply:start', onStart);
    socket.off('reply:token', onToken);
    socket.off('reply:end', onEnd);
    socket.off('handoff', onHandoff);
    socket.off('disconnect', onDisconnect);
  }
}

interface StepResult {
  visitors: number;
  connected: number;
  connectFailures: string[];
  connectP99Ms: number;
  sent: number;
  answered: number;
  /** Messages the time limit left unsent (not lost). */
  unsent: number;
  lost: number;
  lostReasons: Record<string, number>;
  /** Replies whose streamed tokens differ from the stored reply's text. */
  streamMismatches: number;
  handoffs: number;
  ackMs: { p50: number; p99: number };
  firstTokenMs: { p50: number; p99: number; max: number };
  fullReplyMs: { p50: number; p99: number; max: number };
  repliesPerSecond: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  peakRssBytes: number;
  seconds: number;
}

async function step(running: RunningParley, visitors: number): Promise<StepResult> {
  const site = await createSite(running.db.models, {
    name: `bench-${visitors}-${Date.now()}`,
    origins: [ORIGIN],
    // The starter model's confidence is often below the default 0.05: a low-confidence handoff
    // would stop the bot answering after the first reply, which is not the load this measures.
    handoffThreshold: 0,
  });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let peakRss = process.memoryUsage.rss();
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 100);
  const started = performance.now();
  const deadline = started + stepMs;

  const connectMs: number[] = [];
  const connectFailures: string[] = [];
  const sockets: VisitorSocket[] = [];
  const all: Sent[] = [];
  let unsent = 0;
  const visitor = async (index: number) => {
    const connecting = performance.now();
    let connected: Awaited<ReturnType<typeof connectVisitor>>;
    try {
      connected = await connectVisitor(running.url, { siteKey: site.publicKey, origin: ORIGIN });
    } catch (error) {
      connectFailures.push((error as Error).message);
      unsent += messagesEach;
      return;
    }
    connectMs.push(performance.now() - connecting);
    const { socket, session } = connected;
    sockets.push(socket);
    for (let m = 0; m < messagesEach; m++) {
      await sleep(random() * thinkMs);
      if (performance.now() >= deadline || socket.disconnected) {
        unsent += messagesEach - m;
        return;
      }
      const sent: Sent = {
        visitor: index,
        conversationId: session.conversationId,
        clientMessageId: clientMessageId(),
        ackMs: null,
        ack: null,
        ackError: null,
        firstTokenMs: null,
        fullMs: null,
        ended: false,
        reply: null,
        streamed: '',
        timedOut: false,
        handoff: null,
      };
      all.push(sent);
      await sendAndWait(socket, sent, TEXTS[(index + m) % TEXTS.length]!);
      // After a timeout a late reply could be taken for the next one's: this visitor leaves.
      if (sent.timedOut || !sent.ended) {
        unsent += messagesEach - m - 1;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: visitors }, (_, i) => visitor(i)));
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

  const conversationIds = [...new Set(all.map((s) => s.conversationId))];
  const docs = await running.db.models.Conversation.find(
    { _id: { $in: conversationIds } },
    { messages: 1 },
  ).lean();
  const stored = new Map(
    docs.map((doc) => [
      String(doc._id),
      (doc.messages as { _id: ObjectId; role: string }[]).map((m) => ({
        id: m._id.toHexString(),
        role: m.role,
      })),
    ]),
  );
  const reasons: Record<string, number> = {};
  let lost = 0;
  for (const sent of all) {
    const why = lostReasons(sent, stored);
    if (why.length > 0) lost += 1;
    for (const reason of why) reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  for (const socket of sockets) socket.close();

  const done = all.filter((s) => s.ended && s.reply);
  const sorted = (pick: (s: Sent) => number | null) =>
    all
      .map(pick)
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
  const firstToken = sorted((s) => (s.ended && s.reply ? s.firstTokenMs : null));
  const full = sorted((s) => (s.ended && s.reply ? s.fullMs : null));
  const ack = sorted((s) => s.ackMs);
  connectMs.sort((a, b) => a - b);
  const ns = (n: number) => n / 1e6;
  return {
    visitors,
    connected: sockets.length,
    connectFailures,
    connectP99Ms: percentile(connectMs, 99),
    sent: all.length,
    answered: done.length,
    unsent,
    lost,
    lostReasons: reasons,
    streamMismatches: done.filter((s) => s.streamed.trim() !== s.reply!.text).length,
    handoffs: all.filter((s) => s.handoff !== null).length,
    ackMs: { p50: percentile(ack, 50), p99: percentile(ack, 99) },
    firstTokenMs: {
      p50: percentile(firstToken, 50),
      p99: percentile(firstToken, 99),
      max: firstToken.at(-1) ?? Number.NaN,
    },
    fullReplyMs: { p50: percentile(full, 50), p99: percentile(full, 99), max: full.at(-1) ?? Number.NaN },
    repliesPerSecond: done.length / seconds,
    loopDelayMs: {
      p50: ns(delay.percentile(50)),
      p99: ns(delay.percentile(99)),
      max: ns(delay.max),
    },
    peakRssBytes: peakRss,
    seconds,
  };
}

/** The engine on its own: first token and full reply without sockets or the database. */
async function engineReference(running: RunningParley, replies: number) {
  const firstToken: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < replies + 1; i++) {
    const start = performance.now();
    let first: number | null = null;
    await running.chat.reply([{ role: 'customer', text: TEXTS[i % TEXTS.length]! }], {
      onToken: () => {
        first ??= performance.now() - start;
      },
    });
    if (i === 0) continue; // warm-up
    if (first !== null) firstToken.push(first);
    full.push(performance.now() - start);
  }
  firstToken.sort((a, b) => a - b);
  full.sort((a, b) => a - b);
  return {
    firstTokenMs: { p50: percentile(firstToken, 50), max: firstToken.at(-1) ?? Number.NaN },
    fullReplyMs: { p50: percentile(full, 50), max: full.at(-1) ?? Number.NaN },
  };
}

const dataDir = await tempDataDir('parley-bench-widget-');
const bootStart = performance.now();
const running = await startParley(
  testEnv(dataDir.dir, {
    PARLEY_BASE_MODEL: path.join(dataDir.dir, 'models', 'starter'),
    PARLEY_SERVING_WORKERS: String(workers),
    LOG_LEVEL: 'silent',
    PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '100000',
    PARLEY_WIDGET_MESSAGES_PER_MINUTE: '100000',
  }),
);
try {
  for (let i = 0; i < 1200 && !running.chat.ready; i++) {
    if (running.chat.status().state === 'failed') break;
    await sleep(100);
  }
  const status = running.chat.status();
  if (!status.ready) throw new Error(`the starter model is not serving: ${status.reason}`);
  const bootSeconds = (performance.now() - bootStart) / 1000;

  const reference = await engineReference(running, 3);
  const idle = monitorEventLoopDelay({ resolution: 10 });
  idle.enable();
  await sleep(2000);
  idle.disable();
  const idleDelay = { p99: idle.percentile(99) / 1e6, max: idle.max / 1e6 };
  const baseRss = process.memoryUsage.rss();

  print(
    `widget load bench: starter model (${status.version}) on ${status.workers} worker(s), ${status.backend} backend; ` +
      `${messagesEach} message(s) per visitor, think time 0-${thinkMs} ms, sending stops after ${stepMs / 1000} s per step, ` +
      `reply timeout ${replyTimeoutMs / 1000} s; node ${process.version}; ready after ${bootSeconds.toFixed(1)} s; ` +
      `load average ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}`,
  );
  print(
    `reference: engine alone (no socket, no DB) first token p50 ${ms(reference.firstTokenMs.p50)} max ${ms(reference.firstTokenMs.max)}, ` +
      `full reply p50 ${ms(reference.fullReplyMs.p50)} max ${ms(reference.fullReplyMs.max)}; ` +
      `idle event-loop delay p99 ${ms(idleDelay.p99)} max ${ms(idleDelay.max)}; RSS with the model loaded ${mb(baseRss)}; ` +
      `target: p99 first token < ${ms(TARGET_FIRST_TOKEN_MS)}, lost = 0`,
  );
  print('');
  print(
    '| visitors | sent (unsent) | ack p99 | first token p50 | first token p99 | full reply p50 | full reply p99 | replies/s | lost | loop delay p99 | peak RSS | seconds |',
  );
  print('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');

  const results: StepResult[] = [];
  const skipped: number[] = [];
  for (const visitors of ladder) {
    const last = results.at(-1);
    if (last && stopAboveMs > 0 && !(last.firstTokenMs.p99 <= stopAboveMs)) {
      skipped.push(visitors);
      continue;
    }
    const r = await step(running, visitors);
    results.push(r);
    print(
      `| ${r.visitors} | ${r.sent}${r.unsent ? ` (${r.unsent})` : ''} | ${ms(r.ackMs.p99)} | ${ms(r.firstTokenMs.p50)} | ` +
        `${ms(r.firstTokenMs.p99)} | ${ms(r.fullReplyMs.p50)} | ${ms(r.fullReplyMs.p99)} | ${r.repliesPerSecond.toFixed(2)} | ` +
        `${r.lost} | ${ms(r.loopDelayMs.p99)} | ${mb(r.peakRssBytes)} | ${r.seconds.toFixed(1)} |`,
    );
  }
  print('');
  if (skipped.length > 0)
    print(
      `skipped ${skipped.join(', ')} visitors: p99 first token already above ${ms(stopAboveMs)} (--stop-above-ms 0 runs them)`,
    );
  for (const r of results) {
    const notes: string[] = [];
    if (r.lost > 0)
      notes.push(
        `LOST ${r.lost}: ${Object.entries(r.lostReasons)
          .map(([why, n]) => `${n}x ${why}`)
          .join('; ')}`,
      );
    if (r.connectFailures.length > 0)
      notes.push(`${r.connectFailures.length} connection(s) refused: ${r.connectFailures[0]}`);
    if (r.streamMismatches > 0)
      notes.push(`${r.streamMismatches} streamed text(s) differ from the stored reply`);
    if (r.handoffs > 0) notes.push(`${r.handoffs} handoff(s)`);
    if (notes.length > 0) print(`${r.visitors} visitors: ${notes.join('; ')}`);
  }

  // The largest N up to which every step kept p99 first token under the target and lost nothing;
  // on a noisy machine a larger step can pass alone after a smaller one failed, so that is said too.
  const passes = (r: StepResult) => r.firstTokenMs.p99 < TARGET_FIRST_TOKEN_MS && r.lost === 0;
  let largest: number | null = null;
  for (const r of results) {
    if (!passes(r)) break;
    largest = r.visitors;
  }
  const largestAlone = results.filter(passes).at(-1)?.visitors ?? null;
  const totalLost = results.reduce((sum, r) => sum + r.lost, 0);
  print(
    `largest N with p99 first token < ${ms(TARGET_FIRST_TOKEN_MS)} (and nothing lost) at it and every smaller N: ` +
      `${largest ?? 'none'}${largestAlone !== largest ? ` (largest step passing on its own: ${largestAlone})` : ''}` +
      `; lost messages in all: ${totalLost} (must be 0)`,
  );
  if (values.json)
    console.log(
      JSON.stringify(
        {
          config: {
            visitors: ladder,
            messages: messagesEach,
            workers,
            stepSeconds: stepMs / 1000,
            thinkMs,
            replyTimeoutSeconds: replyTimeoutMs / 1000,
            node: process.version,
            backend: status.backend,
            modelVersion: status.version,
            loadAverage: loadavg(),
          },
          reference: { engine: reference, idleLoopDelayMs: idleDelay, baseRssBytes: baseRss },
          steps: results,
          skipped,
          targetFirstTokenMs: TARGET_FIRST_TOKEN_MS,
          largestVisitorsUnderTarget: largest,
          largestPassingStep: largestAlone,
          lost: totalLost,
        },
        null,
        2,
      ),
    );
  if (totalLost > 0) process.exitCode = 1;
} finally {
  await running.widget.replies.idle();
  await running.close();
  await dataDir.cleanup();
}
