/**
 * Where training workers get their inputs (the base model, the dataset) and put their outputs
 * (checkpoints, the adapter, the trained model), so that a worker on another machine works on
 * the same files as the web servers. Artifacts are directories named by keys relative to the
 * store ("datasets/<id>", "training/<job>/checkpoints/step-00000012", "models/v3").
 */
import { sharedDirectoryStore } from './shared-directory.js';

export interface ArtifactStore {
  /** How it is configured, for logs ("shared directory /mnt/parley"). */
  readonly description: string;
  /** A local directory that holds artifact `key`, fetched first when the store is remote. */
  fetch(key: string): Promise<string>;
  /** The local directory an artifact `key` is written in before `publish`. */
  workDir(key: string): string;
  /** Makes what was written in workDir(key) visible to every machine. */
  publish(key: string): Promise<void>;
  /** The key of a local path inside the store, or null for a path outside it. */
  keyOf(localPath: string): string | null;
}

const STORE_URL = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Store constructors by URL scheme; a plain directory path is a shared directory. */
const STORES: Record<string, (url: string) => ArtifactStore> = {};

/** PARLEY_ARTIFACT_STORE as loadEnv resolved it: an absolute directory, or a store URL. */
export function openArtifactStore(spec: string): ArtifactStore {
  const scheme = STORE_URL.exec(spec)?.[1]?.toLowerCase();
  if (scheme === undefined) return sharedDirectoryStore(spec);
  const open = STORES[scheme];
  if (!open) {
    const known = ['a directory path (shared directory)', ...Object.keys(STORES).map((s) => `${s}://`)];
    throw new Error(`Unknown artifact store "${scheme}://"; known: ${known.join(', ')}.`);
  }
  return open(spec);
}

/**
 * The key of a path recorded by a process on another machine: inside the store it becomes a key,
 * outside it stays the absolute path (which must then exist on every machine).
 */
export type ArtifactRef = { key: string } | { path: string };

export function artifactRef(store: ArtifactStore, localPath: string): ArtifactRef {
  const key = store.keyOf(localPath);
  return key === null ? { path: localPath } : { key };
}

export async function resolveArtifact(store: ArtifactStore, ref: ArtifactRef): Promise<string> {
  return 'key' in ref ? store.fetch(ref.key) : ref.path;
}
