import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadEnv } from '../env.js';
import { createAnonymizer, loadPiiKey, type OperatorName } from '../privacy/pii/index.js';
import { CliError, say } from './output.js';
import { operatorName } from './pii-options.js';

const lineSchema = z.object({ id: z.string(), text: z.string() });

async function writeLine(value: unknown): Promise<void> {
  if (!process.stdout.write(`${JSON.stringify(value)}\n`)) await once(process.stdout, 'drain');
}

export function registerPii(program: Command): void {
  const pii = program.command('pii').description('personal data: detection and anonymization');
  pii
    .command('detect')
    .description(
      'read JSON lines {"id", "text"} on stdin; write {"id", "text" (anonymized), "entities": [{"type", "start", "end"}]} per line (offsets into the input text)',
    )
    .option('--operator <name>', 'pseudonymize, mask, redact or hash', operatorName, 'pseudonymize')
    .action(async (options: { operator: OperatorName }) => {
      const env = loadEnv();
      const anonymizer = createAnonymizer({
        hashKey: await loadPiiKey(env.PARLEY_DATA_DIR),
        operator: options.operator,
      });
      const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      let lineNumber = 0;
      let bad = 0;
      for await (const line of lines) {
        lineNumber += 1;
        if (line.trim() === '') continue;
        let parsed: z.infer<typeof lineSchema>;
        try {
          const result = lineSchema.safeParse(JSON.parse(line));
          if (!result.success) throw new Error('expected {"id": string, "text": string}');
          parsed = result.data;
        } catch (error) {
          bad += 1;
          say(
            `parley pii detect: line ${lineNumber}: ${error instanceof Error ? error.message : String(error)}`,
          );
          continue;
        }
        // Each line is its own conversation: pseudonyms are numbered per line.
        const result = anonymizer.conversation().anonymizeText(parsed.text);
        await writeLine({
          id: parsed.id,
          text: result.text,
          entities: result.entities.map(({ type, start, end }) => ({ type, start, end })),
        });
      }
      if (bad > 0) throw new CliError(`${bad} bad line${bad === 1 ? '' : 's'} of ${lineNumber}`);
    });
}
