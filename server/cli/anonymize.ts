import type { Command } from 'commander';
import { loadEnv } from '../env.js';
import { anonymizeFile, BadLineError } from '../privacy/anonymize-file.js';
import { createAnonymizer, loadPiiKey, type OperatorName } from '../privacy/pii/index.js';
import { CliError, printJson, say } from './output.js';
import { operatorName } from './pii-options.js';

export function registerAnonymize(program: Command): void {
  program
    .command('anonymize')
    .description(
      'anonymize a conversations file (.jsonl or .jsonl.br, the seed/data format): turns and metadata, pseudonyms consistent per conversation',
    )
    .requiredOption('--in <file>', 'conversations, one JSON object per line')
    .requiredOption('--out <file>', 'where to write the anonymized conversations (.br to compress)')
    .option('--operator <name>', 'pseudonymize, mask, redact or hash', operatorName, 'pseudonymize')
    .action(async (options: { in: string; out: string; operator: OperatorName }) => {
      const env = loadEnv();
      const anonymizer = createAnonymizer({
        hashKey: await loadPiiKey(env.PARLEY_DATA_DIR),
        operator: options.operator,
      });
      let lastReport = 0;
      try {
        const summary = await anonymizeFile({
          input: options.in,
          output: options.out,
          anonymizer,
          onProgress: ({ conversations, turns }) => {
            const now = Date.now();
            if (now - lastReport < 1000) return;
            lastReport = now;
            say(`anonymized ${conversations} conversations, ${turns} turns`);
          },
        });
        say(
          `anonymized ${summary.conversations} conversations, ${summary.turns} turns in ${summary.durationMs} ms`,
        );
        printJson(summary);
      } catch (error) {
        if (error instanceof BadLineError) throw new CliError(error.message);
        if (
          (error as NodeJS.ErrnoException).code === 'ENOENT' &&
          (error as NodeJS.ErrnoException).path === options.in
        )
          throw new CliError(`cannot read ${options.in}: no such file`);
        throw error;
      }
    });
}
