/**
 * Promotion and rollback. Which version is active lives in one document (system_state
 * "active-model"), updated in a single write, so exactly one version is active at any moment on
 * every MongoDB; the versions' own status fields follow it for listing. Each change is audited.
 */
import { ObjectId } from 'mongodb';
import { deterministicId } from '../db/ids.js';
import type { Models } from '../db/models/index.js';
import { conflict, notFound } from '../errors.js';
import { comparisonGateMetrics, type GateTolerances, gateFailures } from './gate.js';

export const ACTIVE_STATE_KEY = 'active-model';
const activeStateId = () => deterministicId('system-state', ACTIVE_STATE_KEY);

interface ActiveState {
  versionId: ObjectId | null;
  /** Previously active versions, most recent last: what rollback returns to. */
  history: ObjectId[];
}

export interface Actor {
  kind: 'user' | 'cli' | 'system';
  email?: string | null;
  userId?: ObjectId | null;
}

export type RegistryModels = Pick<Models, 'ModelVersion' | 'SystemState' | 'AuditEvent'>;

async function activeState(models: RegistryModels): Promise<ActiveState> {
  const doc = await models.SystemState.findById(activeStateId()).lean();
  const value = (doc?.value ?? {}) as Partial<ActiveState>;
  return { versionId: value.versionId ?? null, history: value.history ?? [] };
}

async function saveActive(models: RegistryModels, state: ActiveState): Promise<void> {
  await models.SystemState.updateOne(
    { _id: activeStateId() },
    { $set: { key: ACTIVE_STATE_KEY, value: state } },
    { upsert: true },
  );
}

/** A version by label (v3) or id; 404 when there is none. */
export async function findVersion(models: RegistryModels, idOrLabel: string) {
  const byLabel = await models.ModelVersion.findOne({ version: idOrLabel }).lean();
  if (byLabel) return byLabel;
  if (ObjectId.isValid(idOrLabel) && /^[0-9a-f]{24}$/i.test(idOrLabel)) {
    const byId = await models.ModelVersion.findById(idOrLabel).lean();
    if (byId) return byId;
  }
  throw notFound(`No model version ${idOrLabel}.`, 'version_not_found');
}

const gateMetrics = (metrics: unknown) => {
  const m = (metrics ?? {}) as Record<string, unknown>;
  const r1 = (m.ranking as { r1?: number } | undefined)?.r1 ?? m.r1;
  return {
    validationLoss: typeof m.validationLoss === 'number' ? m.validationLoss : null,
    r1: typeof r1 === 'number' ? r1 : null,
  };
};

export class GateError extends Error {
  readonly status = 409;
  readonly id = 'gate_failed';
  constructor(readonly failures: string[]) {
    super(
      `Promotion blocked by the gate: ${failures.join('; ')}. Promote with an override and a reason to go ahead.`,
    );
    this.name = 'GateError';
  }
}

export async function promoteVersion(
  models: RegistryModels,
  idOrLabel: string,
  options: { tolerances: GateTolerances; override?: string; actor: Actor },
) {
  const version = await findVersion(models, idOrLabel);
  if (version.status === 'failed')
    throw conflict(`Version ${version.version} failed and cannot be promoted.`, 'version_failed');
  const state = await activeState(models);
  if (state.versionId?.equals(version._id))
    throw conflict(`Version ${version.version} is already active.`, 'already_active');
  const active = state.versionId ? await models.ModelVersion.findById(state.versionId).lean() : null;

  // The comparison report measured both on the same data: the gate reads it when it was made
  // against the version active now; otherwise each version's own stored metrics.
  const compared = active ? comparisonGateMetrics(version.comparison, active._id.toHexString()) : null;
  const failures = compared
    ? gateFailures(compared.candidate, compared.active, options.tolerances)
    : gateFailures(
        gateMetrics(version.metrics),
        active ? gateMetrics(active.metrics) : null,
        options.tolerances,
      );
  if (failures.length > 0 && !options.override) throw new GateError(failures);

  await saveActive(models, {
    versionId: version._id,
    history: state.versionId ? [...state.history, state.versionId] : state.history,
  });
  const now = new Date();
  if (active) await models.ModelVersion.updateOne({ _id: active._id }, { $set: { status: 'retired' } });
  await models.ModelVersion.updateOne(
    { _id: version._id },
    { $set: { status: 'active', promotedAt: now, promotedBy: options.actor.userId ?? null } },
  );
  await models.AuditEvent.create({
    at: now,
    action: failures.length > 0 ? 'version.promote.override' : 'version.promote',
    actor: {
      kind: options.actor.kind,
      email: options.actor.email ?? null,
      userId: options.actor.userId ?? null,
    },
    target: { type: 'model_version', id: version._id.toHexString() },
    details: {
      version: version.version,
      previous: active?.version ?? null,
      gateSource: compared ? 'comparison' : 'metrics',
      ...(failures.length > 0 ? { override: options.override, gateFailures: failures } : {}),
    },
  });
  return { version: version.version, previous: active?.version ?? null, overridden: failures.length > 0 };
}

export async function rollback(models: RegistryModels, actor: Actor) {
  const state = await activeState(models);
  const previousId = state.history[state.history.length - 1];
  if (!state.versionId || !previousId)
    throw conflict('There is no earlier version to roll back to.', 'nothing_to_roll_back');
  const [current, previous] = await Promise.all([
    models.ModelVersion.findById(state.versionId).lean(),
    models.ModelVersion.findById(previousId).lean(),
  ]);
  await saveActive(models, { versionId: previousId, history: state.history.slice(0, -1) });
  const now = new Date();
  await models.ModelVersion.updateOne({ _id: state.versionId }, { $set: { status: 'retired' } });
  await models.ModelVersion.updateOne({ _id: previousId }, { $set: { status: 'active', promotedAt: now } });
  await models.AuditEvent.create({
    at: now,
    action: 'version.rollback',
    actor: { kind: actor.kind, email: actor.email ?? null, userId: actor.userId ?? null },
    target: { type: 'model_version', id: previousId.toHexString() },
    details: { from: current?.version ?? null, to: previous?.version ?? null },
  });
  return { version: previous?.version ?? null, from: current?.version ?? null };
}

/** Takes `id` out of the rollback history, so a rollback never lands on a version that is gone. */
export async function forgetInHistory(models: RegistryModels, id: ObjectId): Promise<void> {
  const state = await activeState(models);
  if (!state.history.some((entry) => entry.equals(id))) return;
  await saveActive(models, { ...state, history: state.history.filter((entry) => !entry.equals(id)) });
}

/** The active version's id, from the single source of truth. */
export async function activeVersionId(models: RegistryModels): Promise<ObjectId | null> {
  return (await activeState(models)).versionId;
}
