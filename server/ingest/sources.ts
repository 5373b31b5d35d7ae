/** Sources: add, list and look up. The URI is a secret and leaves only through getSourceSpec(). */
import { MongoClient, type ObjectId } from 'mongodb';
import { deterministicId } from '../db/ids.js';
import type { Models } from '../db/models/index.js';
import { conflict, notFound } from '../errors.js';
import { SELF_URI, type SourceSpec } from './connectors/index.js';
import { type Mapping, parseMapping } from './mapping.js';
import type { Watermark } from './watermark.js';

export const sourceIdFor = (name: string) => deterministicId('source', name);

export interface NewSource {
  name: string;
  kind: 'mongodb' | 'file';
  uri: string;
  database: string | null;
  collectionName: string | null;
  mapping: Mapping;
}

/** Checks that a MongoDB source answers and its collection exists, within `timeoutMs`. */
export async function verifyMongoSource(
  source: Pick<NewSource, 'uri' | 'database' | 'collectionName'>,
  timeoutMs = 10_000,
) {
  if (source.uri === SELF_URI) return;
  // A timeout written into the URI wins over ours.
  const explicit = /[?&]serverSelectionTimeoutMS=/i.test(source.uri);
  const client = new MongoClient(source.uri, explicit ? {} : { serverSelectionTimeoutMS: timeoutMs });
  try {
    await client.connect();
    const names = await client
      .db(source.database!)
      .listCollections({ name: source.collectionName! }, { nameOnly: true })
      .toArray();
    if (names.length === 0)
      throw new Error(`Collection ${source.database}.${source.collectionName} does not exist.`);
  } catch (error) {
    // The driver's message can quote the URI; say what failed without it.
    const reason = (error as Error).message.replace(/mongodb(\+srv)?:\/\/\S+/g, '<uri>');
    throw new Error(`Cannot read the source: ${reason}`);
  } finally {
    await client.close();
  }
}

export async function addSource(models: Pick<Models, 'Source'>, source: NewSource) {
  const _id = sourceIdFor(source.name);
  if (await models.Source.exists({ _id }))
    throw conflict(`A source named "${source.name}" exists already.`, 'source_exists');
  await models.Source.create({ _id, ...source, mapping: parseMapping(source.mapping) });
  return (await models.Source.findById(_id).lean())!;
}

/** Adds the source unless it exists; for sources Parley sets up itself (demo, file imports). */
export async function ensureSource(models: Pick<Models, 'Source'>, source: NewSource) {
  const _id = sourceIdFor(source.name);
  if (!(await models.Source.exists({ _id }))) await models.Source.create({ _id, ...source });
  return (await models.Source.findById(_id).lean())!;
}

/** A source as an ingestion run needs it, URI included. */
export interface StoredSource extends SourceSpec {
  _id: ObjectId;
  kind: string;
  watermark: Watermark;
}

export async function getSourceSpec(models: Pick<Models, 'Source'>, name: string): Promise<StoredSource> {
  const source = await models.Source.findById(sourceIdFor(name)).select('+uri').lean();
  if (!source) {
    const known = (await models.Source.find({}, { name: 1 }).lean()).map((s) => s.name);
    throw notFound(
      `No source named "${name}". ${known.length ? `Known sources: ${known.join(', ')}.` : 'Add one with `parley source add`.'}`,
      'source_not_found',
    );
  }
  return {
    _id: source._id,
    name: source.name,
    kind: source.kind,
    uri: source.uri,
    database: source.database ?? null,
    collectionName: source.collectionName ?? null,
    mapping: parseMapping(source.mapping),
    watermark: { ts: source.watermark?.ts ?? null, id: source.watermark?.id ?? null },
  };
}
