/**
 * The artifact store as a directory every machine mounts (NFS, a cloud file share, or simply
 * PARLEY_DATA_DIR on a single machine): fetching and publishing cost nothing, because every
 * write is already where every reader looks.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactStore } from './store.js';

export function sharedDirectoryStore(root: string): ArtifactStore {
  const absolute = path.resolve(root);
  const pathOf = (key: string) => {
    const resolved = path.resolve(absolute, key);
    if (resolved !== absolute && !resolved.startsWith(absolute + path.sep))
      throw new Error(`Artifact key "${key}" points outside the store.`);
    return resolved;
  };
  return {
    description: `shared directory ${absolute}`,
    async fetch(key) {
      const dir = pathOf(key);
      await access(dir).catch(() => {
        throw new Error(`Artifact "${key}" is not in the ${this.description}.`);
      });
      return dir;
    },
    workDir: pathOf,
    async publish() {},
    keyOf(localPath) {
      const relative = path.relative(absolute, path.resolve(localPath));
      if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
      return relative.split(path.sep).join('/');
    },
  };
}
