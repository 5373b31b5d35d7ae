/** Adding and changing sources from the console: test the connection, add, edit the field mapping. */
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import type { Endpoint } from '../../auth/policy.js';
import type { Models } from '../../db/models/index.js';
import { badRequest, notFound } from '../../errors.js';
import { type Mapping, MappingError, parseMapping } from '../../ingest/mapping.js';
import { loadMapping, SHIPPED_MAPPINGS, type ShippedMappingName } from '../../ingest/mappings/index.js';
import { presentSource } from '../../ingest/present.js';
import { addSource, sourceIdFor, verifyMongoSource } from '../../ingest/sources.js';
import { parseInput } from './parse.js';

const connection = z.strictObject({
  uri: z
    .string()
    .regex(/^(mongodb(\+srv)?:\/\/\S+|self)$/, { error: 'expected a mongodb:// URI, or "self"' }),
  database: z.string().min(1).max(64),
  collection: z.string().min(1).max(120),
});

/** A mapping object, or the name of a shipped one. Never a file path: that would read the server's files. */
const mappingInput = z.union([
  z.enum(Object.keys(SHIPPED_MAPPINGS) as [ShippedMappingName, ...ShippedMappingName[]]),
  z.record(z.string(), z.unknown()),
]);

async function resolveMapping(input: z.infer<typeof mappingInput>): Promise<Mapping> {
  try {
    return typeof input === 'string' ? await loadMapping(input) : parseMapping(input);
  } catch (error) {
    if (error instanceof MappingError) throw badRequest(error.message, 'invalid_mapping');
    throw error;
  }
}

async function verified(spec: { uri: string; database: string; collectionName: string }) {
  try {
    await verifyMongoSource(spec);
  } catch (error) {
    throw badRequest((error as Error).message, 'source_unreachable');
  }
}

export function sourceEndpoints(deps: { models: Models }): Endpoint[] {
  const { models } = deps;
  return [
    {
      method: 'post',
      path: '/sources/test',
      access: 'admin',
      async handler(req, res) {
        const body = parseInput(connection, req.body);
        await verified({ uri: body.uri, database: body.database, collectionName: body.collection });
        res.json({ ok: true, message: `${body.database}.${body.collection} answers.` });
      },
    },
    {
      method: 'post',
      path: '/sources',
      access: 'admin',
      async handler(req, res) {
        const body = parseInput(
          connection.extend({
            name: z
              .string()
              .trim()
              .min(1)
              .max(80)
              .regex(/^[\w.-]+$/),
            mapping: mappingInput,
          }),
          req.body,
        );
        const mapping = await resolveMapping(body.mapping);
        const spec = { uri: body.uri, database: body.database, collectionName: body.collection };
        await verified(spec);
        const added = await addSource(models, { name: body.name, kind: 'mongodb', mapping, ...spec });
        await recordAudit(models, {
          action: 'source.add',
          actor: req.user!,
          target: { type: 'source', id: added._id.toHexString() },
          details: { name: added.name, kind: added.kind },
        });
        res.status(201).json({ source: presentSource(added) });
      },
    },
    {
      method: 'patch',
      path: '/sources/:name',
      access: 'admin',
      async handler(req, res) {
        const body = parseInput(z.strictObject({ mapping: mappingInput }), req.body);
        const mapping = await resolveMapping(body.mapping);
        const name = String(req.params.name);
        const source = await models.Source.findById(sourceIdFor(name)).lean();
        if (!source) throw notFound(`No source named "${name}".`, 'source_not_found');
        if (source.kind === 'widget') throw badRequest('A widget source has no field mapping.', 'no_mapping');
        const updated = await models.Source.findByIdAndUpdate(
          source._id,
          { $set: { mapping } },
          { returnDocument: 'after' },
        ).lean();
        await recordAudit(models, {
          action: 'source.mapping',
          actor: req.user!,
          target: { type: 'source', id: source._id.toHexString() },
          details: { name },
        });
        res.json({ source: presentSource(updated!) });
      },
    },
  ];
}
