import type { SOURCE_KINDS } from '../../db/models/source.js';
import { jsonlFileConnector } from './jsonl-file.js';
import { mongodbConnector } from './mongodb.js';
import type { Connector } from './types.js';

export { SELF_URI } from './mongodb.js';
export type { ConnectorContext, SourceBatch, SourceReader, SourceSpec } from './types.js';

/** Widget sources are Parley's own chats, ingested in place (server/ingest/live-conversations.ts). */
type SourceKind = Exclude<(typeof SOURCE_KINDS)[number], 'widget'>;

const connectors: Record<SourceKind, Connector> = {
  mongodb: mongodbConnector,
  file: jsonlFileConnector,
};

export function connectorFor(kind: string): Connector {
  const connector = connectors[kind as SourceKind];
  if (!connector)
    throw new Error(`Unknown source kind "${kind}". Known kinds: ${Object.keys(connectors).join(', ')}.`);
  return connector;
}
