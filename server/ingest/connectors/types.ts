import type { Connection } from 'mongoose';
import type { Mapping } from '../mapping.js';
import type { QuarantineEntry } from '../normalize.js';
import type { Watermark } from '../watermark.js';

export type SourceDocument = Record<string, unknown>;

export interface SourceBatch {
  documents: SourceDocument[];
  /** Records the connector could not even parse (a broken JSON line). */
  rejected: QuarantineEntry[];
}

/** What a connector needs to know about a source. */
export interface SourceSpec {
  name: string;
  uri: string;
  database: string | null;
  collectionName: string | null;
  mapping: Mapping;
}

export interface ReadOptions {
  /** Continue after this point; null reads everything. */
  after: Watermark | null;
  batchSize: number;
}

/** Reads a source in (timestamp, _id) order, in bounded batches. */
export interface SourceReader {
  /** Whether `after` is honoured; a reader that cannot resume always reads everything. */
  readonly incremental: boolean;
  /** How many documents a run will read, for progress and ETA; null when unknown. */
  count(after: Watermark | null): Promise<number | null>;
  batches(options: ReadOptions): AsyncIterable<SourceBatch>;
  close(): Promise<void>;
}

export interface ConnectorContext {
  /** Parley's own database connection: the "self" URI reads from its server. */
  ownConnection: Connection;
}

export type Connector = (source: SourceSpec, context: ConnectorContext) => SourceReader;
