/** Hub repository ids, revisions, the files Parley keeps from a repo, and where a pull installs them. */
import path from 'node:path';
import { INDEX_FILE, SINGLE_FILE } from '../safetensors.js';

export const DEFAULT_REVISION = 'main';

export class HubError extends Error {
  override name = 'HubError';
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

export function parseRepoId(repo: string): { owner: string; name: string } {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new HubError(
      `"${repo}" is not a Hugging Face model id: expected OWNER/NAME, e.g. Qwen/Qwen2.5-0.5B`,
    );
  }
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, name };
}

/** PARLEY_DATA_DIR/models/<owner>--<name>, with @<revision> unless it is the default branch. */
export function modelDirName(repo: string, revision: string): string {
  const { owner, name } = parseRepoId(repo);
  const base = `${owner}--${name}`;
  return revision === DEFAULT_REVISION ? base : `${base}@${revision.replace(/[^\w.-]/g, '_')}`;
}

export function modelDir(dataDir: string, repo: string, revision: string): string {
  return path.join(dataDir, 'models', modelDirName(repo, revision));
}

const KEPT = new Set([
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  INDEX_FILE,
]);

/**
 * The files of a repo that Parley needs, in download order: config.json first (an unsupported
 * architecture is refused before any weights are fetched), then the other configs, the tokenizer
 * and model.safetensors. With an index, the shards it names are added once it is read
 * (shardsOf): other top-level safetensors, e.g. Mistral's consolidated.safetensors, are the same
 * weights in another layout. Subfolders (onnx/, original/, ...) are never needed. Throws before
 * anything is downloaded when the repo has no loadable safetensors weights or no config.json.
 */
export function selectFiles(repo: string, files: string[]): string[] {
  const top = files.filter((f) => !f.includes('/'));
  if (!top.includes(INDEX_FILE) && !top.includes(SINGLE_FILE)) {
    const weights = files.filter((f) => /\.(safetensors|bin|h5|onnx|gguf|msgpack|pt|pth|ckpt)$/.test(f));
    const found =
      weights.length > 0
        ? ` (it has ${weights.slice(0, 3).join(', ')}${weights.length > 3 ? ', ...' : ''})`
        : '';
    throw new HubError(
      `${repo} has no safetensors weights in Hugging Face layout (${SINGLE_FILE} or ${INDEX_FILE})${found}: pick a repo or revision that has them`,
    );
  }
  if (!top.includes('config.json')) throw new HubError(`${repo} has no config.json at its top level`);
  const kept = top.filter((f) => KEPT.has(f)).sort((a, b) => rank(a) - rank(b) || compare(a, b));
  return top.includes(INDEX_FILE) ? kept : [...kept, SINGLE_FILE];
}

/** The shards an index names, each once, in order; throws when the repo lacks one. */
export function shardsOf(repo: string, indexText: string, files: string[]): string[] {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(indexText) as { weight_map?: unknown }).weight_map;
  } catch (error) {
    throw new HubError(`${repo}: ${INDEX_FILE} is not JSON: ${(error as Error).message}`);
  }
  if (weightMap === null || typeof weightMap !== 'object') {
    throw new HubError(`${repo}: ${INDEX_FILE} has no weight_map`);
  }
  const shards = [...new Set(Object.values(weightMap as Record<string, string>))].sort(compare);
  const bad = shards.filter((s) => typeof s !== 'string' || s.includes('/') || !s.endsWith('.safetensors'));
  if (bad.length > 0) throw new HubError(`${repo}: ${INDEX_FILE} names unexpected shards: ${bad.join(', ')}`);
  const missing = shards.filter((s) => !files.includes(s));
  if (missing.length > 0)
    throw new HubError(`${repo}: ${INDEX_FILE} names shards the repo lacks: ${missing.join(', ')}`);
  return shards;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const rank = (file: string) => (file === 'config.json' ? 0 : 1);
