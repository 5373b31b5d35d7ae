/**
 * Ingest + anonymize throughput against a raw driver cursor read of the same source, in the same
 * run, on the same embedded server: the demo support logs (STAR + Taskmaster-4, 109,970 messages).
 * Target: ingest >= 0.5x the raw read's documents per second.
 *
 *   npx tsx bench/ingest.ts [--limit N] [--batch-size B] [--report FILE]
 *
 * N conversations per file (default: all), B docs per batch (1000); --report FILE also writes the
 * figures as a BenchReport (bench/report.ts) for `npm run bench`.
 */
import { parseArgs } from 'node:util';
import { DEMO_SOURCE_NAME, demoSourceCollection, seedDemo } from '../seed/index.js';
import { connectMongo } from '../server/db/connection.js';
import { startEmbeddedMongo } from '../server/db/embedded/index.js';
import { bindModels, ensureIndexes } from '../server/db/models/index.js';
import { runIngestion } from '../server/ingest/run.js';
import { workerAnonymizer } from '../server/ingest/worker-anonymizer.js';
import { tempDataDir } from '../tests/support/env.js';
import { rateRow, reproduceCommand, writeReport } from './report.js';

const { values } = parseArgs({
  options: { limit: { type: 'string' }, 'batch-size': { type: 'string' }, report: { type: 'string' } },
});
const limitPerFile = values.limit ? Number(values.limit) : undefined;

const dataDir = await tempDataDir('parley-bench-');
const mongo = await startEmbeddedMongo({ dataDir: null });
const connection = await connectMongo(mongo.uri);
const models = bindModels(connection);
await ensureIndexes(models);
await seedDemo({ connection, models, dataDir: dataDir.dir, limitPerFile });
const source = demoSourceCollection(connection);
const total = await source.countDocuments();

let started = performance.now();
let rawRead = 0;
for await (const _ of source.find({}).sort({ created_at: 1, _id: 1 }).batchSize(1000)) rawRead += 1;
const rawSeconds = (performance.now() - started) / 1000;

const hashKey = Buffer.alloc(32, 1);
started = performance.now();
const anonymizer = await workerAnonymizer({ hashKey });
const summary = await runIngestion({ models, connection, anonymizer, hashKey }, DEMO_SOURCE_NAME, {
  batchSize: Number(values['batch-size'] ?? 1000),
});
await anonymizer.close();
const ingestSeconds = (performance.now() - started) / 1000;

const rawRate = rawRead / rawSeconds;
const ingestRate = summary.read / ingestSeconds;
const entities = Object.values(summary.pii.entities).reduce((a, b) => a + (b ?? 0), 0);
console.log(`source: ${total} raw messages (demo support logs), embedded MongoDB, node ${process.version}`);
console.log(
  `raw cursor read        ${rawRead} docs in ${rawSeconds.toFixed(2)}s  = ${Math.round(rawRate)} docs/s  (reference)`,
);
console.log(
  `ingest + anonymize     ${summary.read} docs in ${ingestSeconds.toFixed(2)}s  = ${Math.round(ingestRate)} docs/s  ` +
    `(${summary.conversations} conversations, ${summary.quarantined} quarantined, ${entities} PII entities replaced)`,
);
console.log(`ratio                  ${(ingestRate / rawRate).toFixed(2)}x raw  (target >= 0.50x)`);
console.log(`peak RSS               ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
await writeReport(values.report, {
  bench: 'bench/ingest.ts',
  title: 'Ingest + anonymize',
  command: reproduceCommand('bench/ingest.ts'),
  setup:
    `demo support logs (${total} raw messages${limitPerFile ? `, ${limitPerFile} conversations per file` : ''}), ` +
    `embedded MongoDB in-process, batch size ${Number(values['batch-size'] ?? 1000)}, anonymization on a worker thread`,
  rows: [
    {
      ...rateRow(
        'ingest + anonymize throughput',
        { label: 'ingest + anonymize', value: ingestRate, unit: 'docs/s' },
        { label: 'raw cursor read', value: rawRate, unit: 'docs/s' },
        0.5,
      ),
      note:
        `${summary.read} docs in ${ingestSeconds.toFixed(1)} s against ${rawRead} in ${rawSeconds.toFixed(1)} s; ` +
        `${summary.conversations} conversations, ${summary.quarantined} quarantined, ${entities} PII entities replaced`,
    },
  ],
});

await connection.close();
await mongo.stop();
await dataDir.cleanup();
