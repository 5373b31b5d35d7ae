/**
 * The starter model as the first model version: on a Parley with no versions at all, the installed
 * starter model becomes v1 and active, so the widget has a bot and the first fine-tune becomes v2
 * with the starter to compare against and roll back to.
 */
import { deterministicId } from '../db/ids.js';
import { readModelConfig } from '../ml/config.js';
import { inspectCheckpoint } from '../ml/safetensors.js';
import { promoteVersion, type RegistryModels } from './promote.js';

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === 11000;

/** Registers and activates `dir` as v1 unless any version exists; returns the label it registered, or null. */
export async function registerStarterVersion(models: RegistryModels, dir: string): Promise<string | null> {
  if (await models.ModelVersion.exists({})) return null;
  const config = await readModelConfig(dir);
  // A torn install (a full disk, a killed copy) must not become the active version.
  await inspectCheckpoint(dir);
  const _id = deterministicId('model-version', 'starter');
  try {
    await models.ModelVersion.create({
      _id,
      version: 'v1',
      status: 'candidate',
      artifactPath: dir,
      baseModel: 'parley-starter',
      architecture: config.architecture,
      hyperparameters: { recipe: 'seed/starter/recipe.ts' },
    });
  } catch (error) {
    if (isDuplicateKey(error)) return null; // another process registered it first
    throw error;
  }
  // No version was active, so the gate has nothing to compare with and lets it through.
  await promoteVersion(models, _id.toHexString(), {
    tolerances: { loss: 0, r1: 0 },
    actor: { kind: 'system' },
  });
  return 'v1';
}
