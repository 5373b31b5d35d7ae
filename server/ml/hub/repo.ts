/** Hub repository ids, revisions, the files Parley keeps from a repo, and where a pull installs them. */
import path from 'node:path';

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
  'model.safetensors.index.json',
]);

/**
 * The files of a repo that Parley needs: configs, tokenizer and safetensors weights at the top
 * level (subfolders hold other formats or variants: onnx/, original/, ...). Throws when the repo
 * has no safetensors weights or no config.json, before anything is downloaded.
 */
export function selectFiles(repo: string, files: string[]): string[] {
  const kept = files.filter((f) => !f.includes('/') && (KEPT.has(f) || f.endsWith('.safetensors')));
  if (!kept.some((f) => f.endsWith('.safetensors'))) {
    const weights = files.filter((f) => /\.(bin|h5|onnx|gguf|msgpack|pt|pth|ckpt)$/.test(f));
    const found =
      weights.length > 0
        ? ` (it has ${weights.slice(0, 3).join(', ')}${weights.length > 3 ? ', ...' : ''})`
        : '';
    throw new HubError(
      `${repo} has no safetensors weights${found}; Parley loads only *.safetensors: pick a repo or revision that has them`,
    );
  }
  if (!kept.includes('config.json')) throw new HubError(`${repo} has no config.json at its top level`);
  // config.json first: an unsupported architecture is refused before the weights are fetched.
  return kept.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const rank = (file: string) => (file === 'config.json' ? 0 : file.endsWith('.safetensors') ? 2 : 1);
