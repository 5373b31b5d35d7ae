/**
 * Deleting a model version: never the active one, and never files something else still uses (the
 * active version's directory, another version's, the base model). Its directory goes only when it
 * lies under PARLEY_DATA_DIR/models, where Parley put it.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { conflict } from '../errors.js';
import { type Actor, activeVersionId, findVersion, forgetInHistory, type RegistryModels } from './promote.js';

export interface DeleteOptions {
  actor: Actor;
  dataDir: string;
  /** Directories that must stay: the base model, at least. */
  keepDirs?: string[];
  /** Remove the version's document only, not its files. */
  keepFiles?: boolean;
}

const inside = (dir: string, parent: string) => {
  const relative = path.relative(parent, dir);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
};

export async function deleteVersion(models: RegistryModels, idOrLabel: string, options: DeleteOptions) {
  const version = await findVersion(models, idOrLabel);
  const activeId = await activeVersionId(models);
  if (activeId?.equals(version._id)) {
    throw conflict(
      `Version ${version.version} is the active one; promote or roll back to another before deleting it.`,
      'version_active',
    );
  }
  const dir = path.resolve(version.artifactPath);
  const others = await models.ModelVersion.find({ _id: { $ne: version._id } }).lean();
  const inUse = new Set([
    ...others.map((v) => path.resolve(v.artifactPath)),
    ...(options.keepDirs ?? []).map((d) => path.resolve(d)),
  ]);
  const removeFiles =
    !options.keepFiles && !inUse.has(dir) && inside(dir, path.resolve(options.dataDir, 'models'));

  await forgetInHistory(models, version._id);
  await models.ModelVersion.deleteOne({ _id: version._id });
  if (removeFiles) await rm(dir, { recursive: true, force: true });
  await models.AuditEvent.create({
    at: new Date(),
    action: 'version.delete',
    actor: {
      kind: options.actor.kind,
      email: options.actor.email ?? null,
      userId: options.actor.userId ?? null,
    },
    target: { type: 'model_version', id: version._id.toHexString() },
    details: { version: version.version, artifactPath: version.artifactPath, filesRemoved: removeFiles },
  });
  return { version: version.version, artifactPath: version.artifactPath, filesRemoved: removeFiles };
}
