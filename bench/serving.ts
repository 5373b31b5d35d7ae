/**
 * Live chat serving on this machine: replies/s, generated tokens/s, time to first token p50/p99 and
 * the server's event-loop lag (p50/p99/max), at each concurrency (conversations replying at once),
 * then the same while a promotion hot-swaps the model under load. Random weights in exact HF layout
 * (no download), or --model DIR (e.g. the starter model) registered as both versions, served by
 * the real chat engine (worker threads, embedded MongoDB registry).
 *
 *   npx tsx bench/serving.ts [--shape small|tiny | --model DIR] [--concurrency 1,8] [--replies 4]
 *                            [--workers 2] [--max-new-tokens 32] [--backend auto|wasm|cpu]
 *                            [--runtime auto|onnx|tfjs] [--report FILE]
 *
 * --report FILE also writes the figures as a BenchReport (bench/report.ts) for `npm run bench`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { startEmbeddedMongo } from '../server/db/embedded/index.js';
import { deterministicId } from '../server/db/ids.js';
import { bindModels } from '../server/db/models/index.js';
import type { BackendChoice } from '../server/ml/backend.js';
import { type TinyCheckpointOptions, writeTinyCheckpoint } from '../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../server/ml/testing/tiny-tokenizer.js';
import { promoteVersion } from '../server/registry/promote.js';
import { type ChatEngine, startChatEngine } from '../server/serving/engine.js';
import type { ServingRuntimeChoice } from '../server/serving/served-model.js';
import type { ChatTurn } from '../server/serving/types.js';
import { type BenchRow, rateRow, reproduceCommand, writeReport } from './report.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'small' },
    concurrency: { type: 'string', default: '1,8' },
    replies: { type: 'string', default: '4' },
    workers: { type: 'string', default: '2' },
    'max-new-tokens': { type: 'string', default: '32' },
    backend: { type: 'string', default: 'wasm' },
    runtime: { type: 'string', default: 'auto' },
    model: { type: 'string' },
    report: { type: 'string' },
  },
});
/** Event-loop lag goal: what a socket message or request waits on top of its own work. */
const TARGET_LAG_MS = 50;

/** The tiny tokenizer has 61 tokens, so the vocabulary stays 64; the layers carry the cost. */
const SHAPES: Record<string, Omit<TinyCheckpointOptions, 'seed'>> = {
  small: {
    architecture: 'llama',
    hiddenSize: 256,
    numLayers: 4,
    numHeads: 8,
    numKvHeads: 4,
    intermediateSize: 688,
    vocabSize: 64,
    contextLength: 512,
  },
  tiny: { architecture: 'llama', vocabSize: 64, contextLength: 64 },
};
const shape = SHAPES[values.shape!];
if (!shape) throw new Error(`--shape: one of ${Object.keys(SHAPES).join(', ')}`);
const concurrencies = values.concurrency!.split(',').map(Number);
const repliesEach = Number(values.replies);
const workers = Number(values.workers);
const maxNewTokens = Number(values['max-new-tokens']);

const CONVERSATION: ChatTurn[] = [
  { role: 'bot', text: 'hi , can i help you ?' },
  { role: 'customer', text: 'hello , my order is late . where is the package ?' },
  { role: 'agent', text: 'sorry for the delay . what is your order number ?' },
  { role: 'customer', text: 'it is a refund for my account , please help' },
];

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '-');

interface Phase {
  replies: number;
  tokens: number;
  errors: number;
  ttft: number[];
  /** Each reply's confidence, sorted. */
  confidence: number[];
  versions: Map<string, number>;
  seconds: number;
  lag: { p50: number; p99: number; max: number };
}

/**
 * Event-loop lag: a 10 ms timer re-armed on every fire; each sample is how late it fired. This is
 * what a Socket.IO message or an HTTP request waits on top of its own work.
 */
function lagSampler(intervalMs = 10) {
  const samples: number[] = [];
  let expected = performance.now() + intervalMs;
  let timer: NodeJS.Timeout;
  const tick = () => {
    const now = performance.now();
    samples.push(Math.max(0, now - expected));
    expected = now + intervalMs;
    timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return {
    stop() {
      clearTimeout(timer);
      const sorted = samples.sort((a, b) => a - b);
      return {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? 0,
      };
    },
  };
}

/** `concurrency` conversations, each asking for replies back to back until `until(started)` says stop. */
async function load(
  chat: ChatEngine,
  concurrency: number,
  until: (started: number) => boolean,
): Promise<Phase> {
  const ttft: number[] = [];
  const confidence: number[] = [];
  const versions = new Map<string, number>();
  let replies = 0;
  let started = 0;
  let tokens = 0;
  let errors = 0;
  let seed = 0;
  const lag = lagSampler();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!until(started)) {
        started += 1;
        const asked = performance.now();
        let first: number | null = null;
        try {
          const reply = await chat.reply(CONVERSATION, {
            maxNewTokens,
            seed: seed++,
            onToken: () => {
              first ??= performance.now() - asked;
            },
          });
          replies += 1;
          tokens += reply.tokens;
          confidence.push(reply.confidence);
          versions.set(reply.modelVersion, (versions.get(reply.modelVersion) ?? 0) + 1);
          if (first !== null) ttft.push(first);
        } catch (error) {
          errors += 1;
          console.error(`reply failed: ${(error as Error).message}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const lagged = lag.stop();
  ttft.sort((a, b) => a - b);
  confidence.sort((a, b) => a - b);
  return {
    replies,
    tokens,
    errors,
    ttft,
    confidence,
    versions,
    seconds,
    lag: lagged,
  };
}

function row(label: string, phase: Phase): string {
  const versions = [...phase.versions].map(([v, n]) => `${v}:${n}`).join(' ');
  return [
    label.padEnd(22),
    `${(phase.replies / phase.seconds).toFixed(2).padStart(7)} replies/s`,
    `${(phase.tokens / phase.seconds).toFixed(1).padStart(7)} tok/s`,
    `TTFT p50 ${ms(percentile(phase.ttft, 50)).padStart(10)} p99 ${ms(percentile(phase.ttft, 99)).padStart(10)}`,
    `loop lag p50 ${ms(phase.lag.p50).padStart(8)} p99 ${ms(phase.lag.p99).padStart(8)} max ${ms(phase.lag.max).padStart(8)}`,
    `confidence p10/p50/p90 ${[10, 50, 90].map((p) => percentile(phase.confidence, p).toFixed(2)).join('/')}`,
    `errors ${phase.errors}`,
    `(${phase.replies} replies, ${versions})`,
  ].join('  ');
}

const root = await mkdtemp(path.join(tmpdir(), 'parley-bench-serving-'));
const mongo = await startEmbeddedMongo({ dataDir: null, port: 0 });
const connection = await mongoose
  .createConnection(mongo.uri, { dbName: 'bench', autoIndex: false })
  .asPromise();
let chat: ChatEngine | null = null;
try {
  const models = bindModels(connection);
  for (const [i, version] of ['v1', 'v2'].entries()) {
    const dir = values.model ? path.resolve(values.model) : path.join(root, version);
    if (!values.model) {
      await writeTinyCheckpoint(dir, { ...shape, seed: 100 + i });
      await writeTinyTokenizer(dir, { chatTemplate: CHATML_TEMPLATE });
    }
    await models.ModelVersion.create({
      _id: deterministicId('model-version', version),
      version,
      artifactPath: dir,
      baseModel: 'bench',
    });
  }
  const gate = { tolerances: { loss: 1, r1: 1 }, actor: { kind: 'system' as const } };
  await promoteVersion(models, 'v1', gate);

  const loadStart = performance.now();
  chat = await startChatEngine({
    models,
    baseModelDir: null,
    systemPrompt: 'you are helpful',
    workers,
    backend: values.backend as BackendChoice,
    runtime: values.runtime as ServingRuntimeChoice,
    pollIntervalMs: 0,
  });
  await chat.refresh();
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const status = chat.status();
  console.log(
    `serving bench: ${values.model ? `model ${values.model}` : `shape ${values.shape} (${JSON.stringify(shape)})`}, ${workers} worker(s) on ${status.runtime === 'onnx' ? 'ONNX Runtime' : `tfjs ${status.backend}`}, ` +
      `max ${maxNewTokens} new tokens, ${repliesEach} replies per conversation; ` +
      `first load ${loadSeconds.toFixed(1)} s; load average ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}`,
  );

  // The machine's own noise: the event loop's lag with nothing to do for 2 s.
  const idleSampler = lagSampler();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idle = idleSampler.stop();
  console.log(
    `${'idle (no replies)'.padEnd(22)}  loop lag p50 ${ms(idle.p50)} p99 ${ms(idle.p99)} max ${ms(idle.max)}`,
  );

  const phases = new Map<number, Phase>();
  for (const concurrency of concurrencies) {
    const phase = await load(chat, concurrency, (started) => started >= concurrency * repliesEach);
    phases.set(concurrency, phase);
    console.log(row(`${concurrency} concurrent`, phase));
  }

  // Hot swap under load: promote v2, then keep 8 (or the largest) conversations busy until it is live.
  const concurrency = Math.max(...concurrencies);
  await promoteVersion(models, 'v2', gate);
  let swapped = false;
  const swapStart = performance.now();
  const swap = chat.refresh().then((outcome) => {
    swapped = true;
    return outcome;
  });
  const during = await load(chat, concurrency, () => swapped);
  const outcome = await swap;
  console.log(row(`${concurrency} during hot-swap`, during));
  console.log(
    `hot-swap to v2: ${outcome?.outcome} after ${((performance.now() - swapStart) / 1000).toFixed(1)} s ` +
      `(new workers load and warm up off the event loop; replies kept flowing on v1 meanwhile)`,
  );
  const after = await load(chat, concurrency, (started) => started >= concurrency * repliesEach);
  console.log(row(`${concurrency} after hot-swap`, after));

  const tokensPerSecond = (phase: Phase) => phase.tokens / phase.seconds;
  const p99 = (phase: Phase) => percentile(phase.ttft, 99);
  const lagRow = (name: string, phase: Phase): BenchRow => ({
    name,
    figure: { label: 'loop lag p99', value: phase.lag.p99, unit: 'ms' },
    reference: { label: 'idle loop lag p99', value: idle.p99, unit: 'ms' },
    ratio: { value: phase.lag.p99 / idle.p99, meaning: 'x idle' },
    goal: { text: `<= ${TARGET_LAG_MS} ms`, met: phase.lag.p99 <= TARGET_LAG_MS },
  });
  const single = phases.get(Math.min(...concurrencies))!;
  const rows: BenchRow[] = [];
  for (const [n, phase] of phases) {
    if (phase !== single)
      rows.push(
        rateRow(
          `generated tokens/s, ${n} concurrent`,
          { label: `${n} concurrent`, value: tokensPerSecond(phase), unit: 'tokens/s' },
          {
            label: `${Math.min(...concurrencies)} concurrent`,
            value: tokensPerSecond(single),
            unit: 'tokens/s',
          },
        ),
      );
    rows.push({
      name: `first token p99, ${n} concurrent`,
      figure: { label: `${n} concurrent`, value: p99(phase), unit: 'ms' },
      reference: { label: 'first token p50, one at a time', value: percentile(single.ttft, 50), unit: 'ms' },
      ratio: { value: p99(phase) / percentile(single.ttft, 50), meaning: 'x one at a time' },
      note: `${phase.replies} replies, ${phase.errors} errors`,
    });
    rows.push(lagRow(`event-loop lag p99, ${n} concurrent`, phase));
  }
  const before = phases.get(concurrency)!;
  rows.push(
    {
      name: `errors during the hot-swap, ${concurrency} concurrent`,
      figure: { label: 'failed replies', value: during.errors, unit: 'replies' },
      reference: { label: 'replies during the swap', value: during.replies, unit: 'replies' },
      goal: { text: '0', met: during.errors === 0 },
      note: `swap ${outcome?.outcome ?? 'none'}; replies per version ${[...during.versions].map(([v, n]) => `${v}: ${n}`).join(', ')}`,
    },
    {
      name: `first token p99 during the hot-swap, ${concurrency} concurrent`,
      figure: { label: 'during the swap', value: p99(during), unit: 'ms' },
      reference: { label: 'same load before the swap', value: p99(before), unit: 'ms' },
      ratio: { value: p99(during) / p99(before), meaning: 'x before the swap' },
    },
    lagRow(`event-loop lag p99 during the hot-swap, ${concurrency} concurrent`, during),
  );
  await writeReport(values.report, {
    bench: 'bench/serving.ts',
    title: 'Live chat serving (the engine, no sockets)',
    command: reproduceCommand('bench/serving.ts'),
    setup:
      `${values.model ? `model ${values.model}` : `random-weight llama, shape ${values.shape}`}, ${workers} generation worker(s) on ${status.backend}, ` +
      `max ${maxNewTokens} new tokens, ${repliesEach} replies per conversation, embedded MongoDB registry; the hot-swap promotes v2 under load`,
    rows,
  });
} finally {
  await chat?.close();
  await connection.close();
  await mongo.stop();
  await rm(root, { recursive: true, force: true });
}
