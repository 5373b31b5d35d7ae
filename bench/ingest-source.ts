/**
 * A company's MongoDB for bench/ingest.ts, in a process of its own: an embedded server holding the
 * demo support logs. Prints its URI on stdout once seeded; stops when its parent closes stdin.
 *
 *   npx tsx bench/ingest-source.ts [--limit N]
 */
import { parseArgs } from 'node:util';
import { seedDemo } from '../seed/index.js';
import { connectMongo } from '../server/db/connection.js';
import { startEmbeddedMongo } from '../server/db/embedded/index.js';
import { bindModels, ensureIndexes } from '../server/db/models/index.js';
import { tempDataDir } from '../tests/support/env.js';

const { values } = parseArgs({ options: { limit: { type: 'string' } } });
const dataDir = await tempDataDir('parley-bench-source-');
const mongo = await startEmbeddedMongo({ dataDir: null });
const connection = await connectMongo(mongo.uri);
const models = bindModels(connection);
await ensureIndexes(models);
await seedDemo({
  connection,
  models,
  dataDir: dataDir.dir,
  limitPerFile: values.limit ? Number(values.limit) : undefined,
});
await connection.close();
process.stdout.write(`${mongo.uri}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await mongo.stop();
  await dataDir.cleanup();
  process.exit(0);
});
