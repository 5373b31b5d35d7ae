/**
 * What the widget benchmarks (bench/widget-load.ts, bench/promotion-load.ts) share: Parley started
 * in-process with the shipped starter model, simulated visitors that send a message and wait for
 * its streamed reply on a real Socket.IO socket, and the check of what MongoDB stored afterwards.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ObjectId } from 'mongodb';
import { type RunningParley, startParley } from '../server/index.js';
import type { Logger } from '../server/logger.js';
import type { Ack, SendMessageResult, WidgetMessage } from '../server/realtime/widget/protocol.js';
import { tempDataDir, testEnv } from '../tests/support/env.js';
import type { VisitorSocket } from '../tests/support/widget-client.js';

export const ORIGIN = 'https://shop.example';

export const TEXTS = [
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

export const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
export const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : '-');
export const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
export const sleep = (delay: number) => new Promise((resolve) => setTimeout(resolve, delay));

/** One visitor message and what became of it. */
export interface Sent {
  visitor: number;
  conversationId: string;
  clientMessageId: string;
  /** performance.now() when it was sent. */
  sentAt: number;
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

export function newSent(visitor: number, conversationId: string, clientMessageId: string): Sent {
  return {
    visitor,
    conversationId,
    clientMessageId,
    sentAt: 0,
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
}

/** A conversation's stored messages, in order: id, role and the version that wrote a bot reply. */
export type StoredMessages = Map<string, { role: string; id: string; modelVersion: string | null }[]>;

/** Reads the stored messages of `conversationIds` (after the replies drained). */
export async function storedMessages(
  running: RunningParley,
  conversationIds: string[],
): Promise<StoredMessages> {
  const docs = await running.db.models.Conversation.find(
    { _id: { $in: conversationIds } },
    { messages: 1 },
  ).lean();
  return new Map(
    docs.map((doc) => [
      String(doc._id),
      (doc.messages as { _id: ObjectId; role: string; modelVersion?: string | null }[]).map((m) => ({
        id: m._id.toHexString(),
        role: m.role,
        modelVersion: m.modelVersion ?? null,
      })),
    ]),
  );
}

/** Why a message counts as lost; empty when it was answered and stored. */
export function lostReasons(sent: Sent, stored: StoredMessages, replyTimeoutMs: number): string[] {
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
export async function sendAndWait(
  socket: VisitorSocket,
  sent: Sent,
  text: string,
  replyTimeoutMs: number,
): Promise<void> {
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
    sent.sentAt = start;
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

/**
 * Parley in-process on port 0 with the shipped starter model on `workers` generation workers, the
 * widget's rate limits lifted (every visitor shares the loopback address); resolves once the model
 * serves. `cleanup` closes it and removes its data directory.
 */
export async function startBenchParley(options: {
  workers: number;
  env?: Record<string, string>;
  logger?: Logger;
}): Promise<{ running: RunningParley; bootSeconds: number; dataDir: string; cleanup: () => Promise<void> }> {
  const dataDir = await tempDataDir('parley-bench-widget-');
  const bootStart = performance.now();
  let running: RunningParley;
  try {
    running = await startParley(
      testEnv(dataDir.dir, {
        PARLEY_BASE_MODEL: path.join(dataDir.dir, 'models', 'starter'),
        PARLEY_SERVING_WORKERS: String(options.workers),
        LOG_LEVEL: 'silent',
        PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '100000',
        PARLEY_WIDGET_MESSAGES_PER_MINUTE: '100000',
        ...options.env,
      }),
      options.logger ? { logger: options.logger } : {},
    );
  } catch (error) {
    await dataDir.cleanup();
    throw error;
  }
  const cleanup = async () => {
    await running.widget.replies.idle();
    await running.close();
    await dataDir.cleanup();
  };
  for (let i = 0; i < 1200 && !running.chat.ready; i++) {
    if (running.chat.status().state === 'failed') break;
    await sleep(100);
  }
  const status = running.chat.status();
  if (!status.ready) {
    await cleanup();
    throw new Error(`the starter model is not serving: ${status.reason}`);
  }
  return { running, bootSeconds: (performance.now() - bootStart) / 1000, dataDir: dataDir.dir, cleanup };
}

/** The engine on its own: first token and full reply without sockets or the database. */
export async function engineReference(running: RunningParley, replies: number) {
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
