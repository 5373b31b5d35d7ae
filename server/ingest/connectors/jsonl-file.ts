import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import type { Connector, SourceDocument } from './types.js';

function open(file: string): Readable {
  const raw = createReadStream(file);
  if (file.endsWith('.br')) return raw.pipe(createBrotliDecompress());
  if (file.endsWith('.gz')) return raw.pipe(createGunzip());
  return raw;
}

/**
 * JSON lines, one document per line (plain, .gz or .br). A document without an `_id` gets
 * "<file>:<line>", which is what quarantine entries then name. Files are always read whole;
 * deterministic ids make re-imports add nothing.
 */
export const jsonlFileConnector: Connector = (source) => {
  const file = source.uri;
  const name = path.basename(file);
  return {
    incremental: false,
    count: async () => null,
    async *batches({ batchSize }) {
      const input = open(file);
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      let documents: SourceDocument[] = [];
      let rejected: { sourceDocumentId: unknown; path: null; reason: string }[] = [];
      let lineNumber = 0;
      try {
        for await (const line of lines) {
          lineNumber += 1;
          if (line.trim() === '') continue;
          const id = `${name}:${lineNumber}`;
          try {
            const parsed: unknown = JSON.parse(line);
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
              rejected.push({
                sourceDocumentId: id,
                path: null,
                reason: `line ${lineNumber} is not a JSON object`,
              });
            } else {
              documents.push({ _id: id, ...(parsed as SourceDocument) });
            }
          } catch (error) {
            rejected.push({
              sourceDocumentId: id,
              path: null,
              reason: `line ${lineNumber} is not valid JSON: ${(error as Error).message}`,
            });
          }
          if (documents.length + rejected.length >= batchSize) {
            yield { documents, rejected };
            documents = [];
            rejected = [];
          }
        }
        if (documents.length + rejected.length > 0) yield { documents, rejected };
      } finally {
        lines.close();
        input.destroy();
      }
    },
    close: async () => undefined,
  };
};
