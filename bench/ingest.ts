/**
 * Ingest + anonymize throughput against a raw driver cursor read of the same source, in the same
 * run: the demo support logs (STAR + Taskmaster-4, 109,970 messages). Target: ingest >= 0.5x the
 * raw read's documents per second. Measured twice, Parley's own database embedded in-process both
 * times:
 *   - in-process: the source in that same embedded server (the demo's own set-up);
 *   - separate: the source in a MongoDB process of its own, as a company's support logs are.
 *
 *   npx tsx bench/ingest.ts [--source in-process|separate|both] [--repeat R] [--limit N]
 *     [--batch-size B] [--report FILE]
 *
 * Each placement is measured R times (default 3), each time in a fresh process, and reported by
 * its median run, with the range of the R ratios: one run on a shared 2-core machine moves by
 * ±0.03x. N conversations per file (default: all), B docs per batch (1000); --report FILE also
 * writes the figures as a BenchReport (bench/report.ts) for `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Collection, Document } from 'mongodb';
import { MongoClient } from 'mongodb';
import {
  DEMO_SOURCE_COLLECTION,
  DEMO_SOURCE_DATABASE,
  DEMO_SOURCE_NAME,
  demoSourceCollection,
  seedDemo,
} from '../seed/index.js';
import { connectMongo } from '../server/db/connection.js';
import { startEmbeddedMongo } from '../server/db/embedded/index.js';
import { bindModels, ensureIndexes, type Models } from '../server/db/models/index.js';
import { loadMapping } from '../server/ingest/mappings/index.js';
import { runIngestion } from '../server/ingest/run.js';
import { addSource } from '../server/ingest/sources.js';
import { workerAnonymizer } from '../server/ingest/worker-anonymizer.js';
import { tempDataDir } from '../tests/support/env.js';
import { type BenchReport, type BenchRow, rateRow, reproduceCommand, writeReport } from './report.js';

const { values } = parseArgs({
  options: {
    source: { type: 'string', default: 'both' },
    repeat: { type: 'string', default: '3' },
    limit: { type: 'string' },
    'batch-size': { type: 'string' },
    report: { type: 'string' },
  },
});
if (!['in-process', 'separate', 'both'].includes(values.source!))
  throw new Error(`--source: expected in-process, separate or both, got ${values.source}`);
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: expected a whole number >= 1`);

/** One measurement of one placement, in a fresh process: a second would run on the first one's heap. */
async function measureInChild(placement: string): Promise<BenchReport> {
  const file = path.join(tmpdir(), `parley-bench-ingest-${placement}-${process.pid}.json`);
  const own = ['--source', '--report', '--repeat'];
  const passed = process.argv
    .slice(2)
    .filter(
      (arg, i, all) =>
        !own.includes(arg) && !own.includes(all[i - 1] ?? '') && !/^--(source|report|repeat)=/.test(arg),
    );
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/ingest.ts',
      ...passed,
      '--source',
      placement,
      '--repeat',
      '1',
      '--report',
      file,
    ],
    { stdio: 'inherit' },
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/ingest.ts --source ${placement} exited with code ${code}`);
  const report = JSON.parse(await readFile(file, 'utf8')) as BenchReport;
  await rm(file, { force: true });
  return report;
}

if (values.source === 'both' || repeat > 1) {
  const rows: BenchRow[] = [];
  let setup = '';
  for (const placement of values.source === 'both' ? ['in-process', 'separate'] : [values.source!]) {
    const runs: BenchRow[] = [];
    for (let run = 0; run < repeat; run += 1) {
      const report = await measureInChild(placement);
      runs.push(report.rows[0]!);
      setup = report.setup;
    }
    runs.sort((a, b) => a.ratio!.value - b.ratio!.value);
    const median = runs[Math.floor((repeat - 1) / 2)]!;
    const range = `${runs[0]!.ratio!.value.toFixed(2)}–${runs[repeat - 1]!.ratio!.value.toFixed(2)}x`;
    console.log(
      `${placement}: median of ${repeat} runs ${median.ratio!.value.toFixed(2)}x raw (runs: ${range})`,
    );
    rows.push(
      repeat === 1
        ? median
        : {
            ...median,
            note: `median of ${repeat} runs, each in a fresh process (ratios ${range}); ${median.note}`,
          },
    );
  }
  await writeReport(values.report, {
    bench: 'bench/ingest.ts',
    title: 'Ingest + anonymize',
    command: reproduceCommand('bench/ingest.ts'),
    setup,
    rows,
  });
  process.exit(0);
}
const limitPerFile = values.limit ? Number(values.limit) : undefined;
const batchSize = Number(values['batch-size'] ?? 1000);
const hashKey = Buffer.alloc(32, 1);

const dataDir = await tempDataDir('parley-bench-');
const mongo = await startEmbeddedMongo({ dataDir: null });
const connection = await connectMongo(mongo.uri);
const models = bindModels(connection);
await ensureIndexes(models);

interface Measured {
  placement: string;
  total: number;
  raw: { docs: number; seconds: number };
  ingest: { docs: number; seconds: number; conversations: number; quarantined: number; entities: number };
}

async function rawRead(source: Collection<Document>): Promise<{ docs: number; seconds: number }> {
  const started = performance.now();
  let docs = 0;
  for await (const _ of source.find({}).sort({ created_at: 1, _id: 1 }).batchSize(1000)) docs += 1;
  return { docs, seconds: (performance.now() - started) / 1000 };
}

async function ingest(parley: { models: Models }, sourceName: string): Promise<Measured['ingest']> {
  const started = performance.now();
  const anonymizer = await workerAnonymizer({ hashKey });
  const summary = await runIngestion({ ...parley, connection, anonymizer, hashKey }, sourceName, {
    batchSize,
    full: true,
  });
  await anonymizer.close();
  return {
    docs: summary.read,
    seconds: (performance.now() - started) / 1000,
    conversations: summary.conversations,
    quarantined: summary.quarantined,
    entities: Object.values(summary.pii.entities).reduce((a, b) => a + (b ?? 0), 0),
  };
}

async function inProcess(): Promise<Measured> {
  await seedDemo({ connection, models, dataDir: dataDir.dir, limitPerFile });
  const source = demoSourceCollection(connection) as unknown as Collection<Document>;
  const total = await source.countDocuments();
  return {
    placement: 'in-process',
    total,
    raw: await rawRead(source),
    ingest: await ingest({ models }, DEMO_SOURCE_NAME),
  };
}

async function separate(): Promise<Measured> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/ingest-source.ts', ...(limitPerFile ? ['--limit', String(limitPerFile)] : [])],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const uri = String(line).trim();
    const client = await new MongoClient(uri).connect();
    try {
      const source = client.db(DEMO_SOURCE_DATABASE).collection(DEMO_SOURCE_COLLECTION);
      await addSource(models, {
        name: 'company',
        kind: 'mongodb',
        uri,
        database: DEMO_SOURCE_DATABASE,
        collectionName: DEMO_SOURCE_COLLECTION,
        mapping: await loadMapping('demo-support-messages'),
      });
      const total = await source.countDocuments();
      return {
        placement: 'separate',
        total,
        raw: await rawRead(source),
        ingest: await ingest({ models }, 'company'),
      };
    } finally {
      await client.close();
    }
  } finally {
    child.stdin!.end();
    await once(child, 'exit');
  }
}

const m = values.source === 'in-process' ? await inProcess() : await separate();
const rawRate = m.raw.docs / m.raw.seconds;
const ingestRate = m.ingest.docs / m.ingest.seconds;
const where = m.placement === 'in-process' ? 'source in-process' : 'source in its own process';
console.log(`${where}: ${m.total} raw messages (demo support logs), node ${process.version}`);
console.log(
  `  raw cursor read        ${m.raw.docs} docs in ${m.raw.seconds.toFixed(2)}s  = ${Math.round(rawRate)} docs/s  (reference)`,
);
console.log(
  `  ingest + anonymize     ${m.ingest.docs} docs in ${m.ingest.seconds.toFixed(2)}s  = ${Math.round(ingestRate)} docs/s  ` +
    `(${m.ingest.conversations} conversations, ${m.ingest.quarantined} quarantined, ${m.ingest.entities} PII entities replaced)`,
);
console.log(`  ratio                  ${(ingestRate / rawRate).toFixed(2)}x raw  (target >= 0.50x)`);
const row: BenchRow = {
  ...rateRow(
    `ingest + anonymize throughput, ${where}`,
    { label: 'ingest + anonymize', value: ingestRate, unit: 'docs/s' },
    { label: 'raw cursor read', value: rawRate, unit: 'docs/s' },
    0.5,
  ),
  note:
    `${m.ingest.docs} docs in ${m.ingest.seconds.toFixed(1)} s against ${m.raw.docs} in ${m.raw.seconds.toFixed(1)} s; ` +
    `${m.ingest.conversations} conversations, ${m.ingest.quarantined} quarantined, ${m.ingest.entities} PII entities replaced`,
};
console.log(`peak RSS               ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
await writeReport(values.report, {
  bench: 'bench/ingest.ts',
  title: 'Ingest + anonymize',
  command: reproduceCommand('bench/ingest.ts'),
  setup:
    `demo support logs (${m.total} raw messages${limitPerFile ? `, ${limitPerFile} conversations per file` : ''}); ` +
    `Parley's database embedded in-process; the source in that same server, or in a MongoDB process of its own; ` +
    `batch size ${batchSize}, anonymization on a worker thread`,
  rows: [row],
});

await connection.close();
await mongo.stop();
await dataDir.cleanup();
