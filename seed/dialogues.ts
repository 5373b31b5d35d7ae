/** Reads the public support dialogues Parley ships (brotli-compressed JSON lines). */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createBrotliDecompress } from 'node:zlib';
import { z } from 'zod';

export const DIALOGUE_DIR = path.join(import.meta.dirname, 'data');
export const DIALOGUE_FILES = [
  'star.train.jsonl.br',
  'star.dev.jsonl.br',
  'taskmaster4.train.jsonl.br',
  'taskmaster4.dev.jsonl.br',
] as const;

const turnSchema = z.object({
  role: z.enum(['customer', 'agent']),
  text: z.string(),
  ts: z.iso.datetime({ offset: true }),
});

export const dialogueSchema = z.object({
  conversationId: z.string().min(1),
  channel: z.string().min(1),
  startedAt: z.iso.datetime({ offset: true }),
  turns: z.array(turnSchema).min(1),
  meta: z.record(z.string(), z.unknown()).default({}),
});

export type Dialogue = z.infer<typeof dialogueSchema>;

/** Streams dialogues from one shipped file; `limit` stops early (demos and tests). */
export async function* readDialogues(
  file: string,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<Dialogue> {
  if (limit <= 0) return;
  const input = createReadStream(file).pipe(createBrotliDecompress());
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let count = 0;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      const parsed = dialogueSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        throw new Error(`${path.basename(file)} line ${lineNumber}: ${z.prettifyError(parsed.error)}`);
      }
      yield parsed.data;
      count += 1;
      if (count >= limit) return;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
