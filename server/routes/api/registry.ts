/** Model versions for admins: the list with lineage, one version's report, promote and roll back. */
import { ObjectId } from 'mongodb';
import { z } from 'zod';
import type { Endpoint } from '../../auth/policy.js';
import type { Models } from '../../db/models/index.js';
import { HttpError } from '../../errors.js';
import type { StaffUser } from '../../realtime/agent/protocol.js';
import type { GateTolerances } from '../../registry/gate.js';
import { presentVersion } from '../../registry/present.js';
import { activeVersionId, findVersion, GateError, promoteVersion, rollback } from '../../registry/promote.js';
import { parseInput } from './parse.js';

export interface RegistryRouteDeps {
  models: Models;
  tolerances: GateTolerances;
  /** Tells this process's chat engine to swap now rather than at its next poll. */
  refreshServing: () => Promise<unknown>;
}

const promoteBody = z.strictObject({
  override: z.string().trim().min(3, { error: 'say why the gate is overridden' }).max(500).optional(),
});

/**
 * Answers once this process serves the new version, or after SWAP_WAIT_MS while a large model
 * still loads (the swap goes on; every server polls the registry too).
 */
const SWAP_WAIT_MS = 5000;
const swapOrMoveOn = (swap: Promise<unknown>) =>
  Promise.race([
    swap.catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, SWAP_WAIT_MS).unref()),
  ]);

const actorOf = (user: StaffUser) => ({
  kind: 'user' as const,
  email: user.email,
  userId: new ObjectId(user.id),
});

export function registryEndpoints(deps: RegistryRouteDeps): Endpoint[] {
  const { models } = deps;
  return [
    {
      method: 'get',
      path: '/versions',
      access: 'admin',
      async handler(_req, res) {
        const [versions, active] = await Promise.all([
          models.ModelVersion.find({}).sort({ createdAt: -1, _id: -1 }).lean(),
          activeVersionId(models),
        ]);
        res.json({
          active: versions.find((v) => active?.equals(v._id))?.version ?? null,
          versions: versions.map((v) => ({ ...presentVersion(v), active: active?.equals(v._id) ?? false })),
        });
      },
    },
    {
      method: 'get',
      path: '/versions/:id',
      access: 'admin',
      async handler(req, res) {
        const version = await findVersion(models, String(req.params.id));
        const active = await activeVersionId(models);
        const activeVersion = active
          ? await models.ModelVersion.findById(active, { version: 1 }).lean()
          : null;
        res.json({
          ...presentVersion(version),
          active: active?.equals(version._id) ?? false,
          activeVersion: activeVersion?.version ?? null,
          report: version.comparison ?? null,
        });
      },
    },
    {
      method: 'post',
      path: '/versions/:id/promote',
      access: 'admin',
      async handler(req, res) {
        const body = parseInput(promoteBody, req.body ?? {});
        try {
          const result = await promoteVersion(models, String(req.params.id), {
            tolerances: deps.tolerances,
            ...(body.override ? { override: body.override } : {}),
            actor: actorOf(req.user!),
          });
          await swapOrMoveOn(deps.refreshServing());
          res.json(result);
        } catch (error) {
          if (error instanceof GateError)
            throw new HttpError(409, 'gate_failed', error.message, { failures: error.failures });
          throw error;
        }
      },
    },
    {
      method: 'post',
      path: '/versions/rollback',
      access: 'admin',
      async handler(req, res) {
        const result = await rollback(models, actorOf(req.user!));
        await swapOrMoveOn(deps.refreshServing());
        res.json(result);
      },
    },
  ];
}
