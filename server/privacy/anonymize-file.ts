/**
 * Anonymizes a file of conversations in the shipped dialogue format (one JSON conversation per line,
 * plain .jsonl or brotli .jsonl.br): every turn and the metadata, one conversation anonymizer per
 * conversation so that pseudonyms are consistent within it. Streams; writes atomically.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createBrotliCompress, createBrotliDecompress } from 'node:zlib';
import { z } from 'zod';
import { type Dialogue, dialogueSchema } from '../../seed/dialogues.js';
import { type Anonymizer, mergeReports, type PiiReport } from './pii/index.js';

export interface AnonymizeFileSummary {
  conversations: number;
  turns: number;
  entities: PiiReport['entities'];
  operators: PiiReport['operators'];
  durationMs: number;
}

export interface AnonymizeFileOptions {
  input: string;
  output: string;
  anonymizer: Anonymizer;
  onProgress?: (done: { conversations: number; turns: number }) => void;
}

export class BadLineError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file} line ${line}: ${detail}`);
    this.name = 'BadLineError';
  }
}

export function anonymizeDialogue(
  anonymizer: Anonymizer,
  dialogue: Dialogue,
): { dialogue: Dialogue; report: PiiReport } {
  const conversation = anonymizer.conversation();
  const turns = dialogue.turns.map((turn) => ({
    ...turn,
    text: conversation.anonymizeText(turn.text, { role: turn.role }).text,
  }));
  const meta = conversation.anonymizeValue(dialogue.meta);
  return { dialogue: { ...dialogue, turns, meta }, report: conversation.report() };
}

const compressed = (file: string) => file.endsWith('.br');

export async function anonymizeFile(options: AnonymizeFileOptions): Promise<AnonymizeFileSummary> {
  const started = performance.now();
  const raw = createReadStream(options.input);
  const input: Readable = compressed(options.input) ? raw.pipe(createBrotliDecompress()) : raw;
  const temporary = `${options.output}.tmp-${process.pid}`;
  const file = createWriteStream(temporary, { mode: 0o600 });
  const brotli = compressed(options.output) ? createBrotliCompress() : undefined;
  const out: Writable = brotli ?? file;
  // Resolves once everything is on disk; its error handlers also keep a failed write from crashing.
  const written = brotli ? pipeline(brotli, file) : finished(file);
  written.catch(() => undefined);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let report: PiiReport = { entities: {}, operators: {} };
  let conversations = 0;
  let turns = 0;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      let parsed: Dialogue;
      try {
        const result = dialogueSchema.safeParse(JSON.parse(line));
        if (!result.success) throw new Error(z.prettifyError(result.error));
        parsed = result.data;
      } catch (error) {
        throw new BadLineError(
          options.input,
          lineNumber,
          error instanceof Error ? error.message : String(error),
        );
      }
      const anonymized = anonymizeDialogue(options.anonymizer, parsed);
      report = mergeReports(report, anonymized.report);
      conversations += 1;
      turns += parsed.turns.length;
      if (!out.write(`${JSON.stringify(anonymized.dialogue)}\n`)) await once(out, 'drain');
      options.onProgress?.({ conversations, turns });
    }
    out.end();
    await written;
    await rename(temporary, options.output);
  } catch (error) {
    lines.close();
    raw.unpipe();
    raw.destroy();
    input.destroy();
    out.end();
    await written.catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  return {
    conversations,
    turns,
    entities: report.entities,
    operators: report.operators,
    durationMs: Math.round(performance.now() - started),
  };
}
