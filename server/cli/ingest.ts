import path from 'node:path';
import type { Command } from 'commander';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { loadMapping } from '../ingest/mappings/index.js';
import { type IngestSummary, runIngestion } from '../ingest/run.js';
import { ensureSource } from '../ingest/sources.js';
import { workerAnonymizer } from '../ingest/worker-anonymizer.js';
import { loadPiiKey } from '../privacy/pii/key.js';
import { CliError, printJson } from './output.js';
import { createProgressReporter } from './progress-bar.js';
import { positiveInteger } from './seed.js';

function humanSummary(summary: IngestSummary): string {
  const entities = Object.entries(summary.pii.entities)
    .map(([type, count]) => `${type} ${count}`)
    .join(', ');
  return [
    `Ingested source "${summary.source}" (${summary.status}) in ${(summary.durationMs / 1000).toFixed(1)}s:`,
    `  ${summary.read} documents read, ${summary.messages} messages in ${summary.conversations} conversations, ${summary.quarantined} quarantined`,
    `  personal data replaced: ${entities || 'none found'}`,
  ].join('\n');
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('read new support logs from a source (or a JSON-lines file), anonymize them and store them')
    .option('--source <name>', 'a source added with `parley source add`')
    .option(
      '--file <path>',
      'import conversations from JSON lines (.jsonl, .jsonl.gz, .jsonl.br) in the seed/data format',
    )
    .option('--full', 're-read everything, not only what is newer than the watermark')
    .option('--json', 'print the final summary as JSON on stdout')
    .option('--batch-size <n>', 'documents per batch', positiveInteger, 1000)
    .action(
      async (options: {
        source?: string;
        file?: string;
        full?: boolean;
        json?: boolean;
        batchSize: number;
      }) => {
        if (Boolean(options.source) === Boolean(options.file))
          throw new CliError('Give exactly one of --source NAME or --file PATH.');
        const env = loadEnv();
        const database = await openDatabase(env, { shareRunning: true });
        const controller = new AbortController();
        const cancel = () => controller.abort();
        process.once('SIGINT', cancel);
        try {
          let sourceName = options.source!;
          if (options.file) {
            const file = path.resolve(options.file);
            sourceName = `file:${path.basename(file)}`;
            await ensureSource(database.models, {
              name: sourceName,
              kind: 'file',
              uri: file,
              database: null,
              collectionName: null,
              mapping: await loadMapping('conversations'),
            });
          }
          const hashKey = await loadPiiKey(env.PARLEY_DATA_DIR);
          const anonymizer = await workerAnonymizer({ hashKey });
          const progress = createProgressReporter(`ingest ${sourceName}`);
          const summary = await runIngestion(
            { models: database.models, connection: database.connection, anonymizer, hashKey },
            sourceName,
            {
              full: options.full,
              batchSize: options.batchSize,
              onProgress: (p) => progress.update(p),
              signal: controller.signal,
            },
          ).finally(async () => {
            progress.stop();
            await anonymizer.close();
          });
          if (options.json) {
            const { read, conversations, messages, quarantined, watermark, durationMs } = summary;
            printJson({
              read,
              conversations,
              messages,
              quarantined,
              watermark,
              durationMs,
              runId: summary.runId,
              status: summary.status,
              pii: summary.pii,
            });
          } else {
            process.stdout.write(`${humanSummary(summary)}\n`);
          }
        } finally {
          process.off('SIGINT', cancel);
          await database.close();
        }
      },
    );
}
