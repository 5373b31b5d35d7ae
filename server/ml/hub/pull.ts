/**
 * `parley model pull`: a model repo's configs, tokenizer and safetensors weights from the hub into
 * PARLEY_DATA_DIR/models/<owner>--<name>[@revision].
 *
 * Files land in a hidden staging directory next to it (models/.<dir>.partial), each as
 * `<file>.part` until its size and sha256 check out. Only when every file is complete and the
 * model's config and safetensors headers parse is the staging directory renamed into place, so
 * a model directory that exists is always complete. An interrupted pull leaves the staging
 * directory behind; the next pull of the same commit skips its complete files and resumes its
 * `.part` with a Range request.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Architecture } from '../config.js';
import { INDEX_FILE } from '../safetensors.js';
import { fetchRepoRevision, type HubFile, type HubRequest, withSlash } from './api.js';
import { downloadFile } from './download.js';
import { DEFAULT_REVISION, HubError, modelDir, parseRepoId, selectFiles, shardsOf } from './repo.js';
import { checkConfig, checkWeights } from './verify.js';

export interface PullOptions extends HubRequest {
  repo: string;
  revision?: string;
  dataDir: string;
  /** Resumed attempts per file after a dropped connection (default 3). */
  retries?: number;
  /** See DownloadOptions.idleTimeoutMs. */
  idleTimeoutMs?: number;
  onProgress?: (progress: PullProgress) => void;
}

export interface PullProgress {
  file: string;
  /** Bytes of the model on disk so far, complete files included. */
  done: number;
  /** Bytes of the model, when the hub lists sizes. */
  total: number | undefined;
}

export interface PullResult {
  repo: string;
  revision: string;
  /** The commit the revision resolved to (undefined when the model was already installed). */
  commit: string | undefined;
  dir: string;
  files: string[];
  bytes: number;
  /** Bytes fetched by this run; 0 when everything was already there. */
  downloaded: number;
  architecture: Architecture;
}

const COMMIT_FILE = '.commit';

export async function pullModel(options: PullOptions): Promise<PullResult> {
  const { repo, dataDir } = options;
  const revision = options.revision ?? DEFAULT_REVISION;
  parseRepoId(repo);
  const dir = modelDir(dataDir, repo, revision);
  const installed = await installedModel(dir, repo);
  if (installed) return { repo, revision, commit: undefined, dir, downloaded: 0, ...installed };

  const { sha, files: listed } = await fetchRepoRevision(options, repo, revision);
  const files = selectFiles(
    repo,
    listed.map((f) => f.name),
  );
  const byName = new Map(listed.map((f) => [f.name, f]));
  const staging = path.join(path.dirname(dir), `.${path.basename(dir)}.partial`);
  const unlock = await lock(`${staging}.lock`, repo);
  try {
    return await download({ ...options, revision, files, byName, sha, staging, dir });
  } finally {
    await unlock();
  }
}

interface Plan extends PullOptions {
  revision: string;
  files: string[];
  byName: Map<string, HubFile>;
  sha: string;
  staging: string;
  dir: string;
}

async function download(plan: Plan): Promise<PullResult> {
  const { repo, revision, files, byName, sha, staging, dir } = plan;
  const options = plan;
  await prepareStaging(staging, sha);

  const totalOf = (names: string[]) => {
    const sizes = names.map((f) => byName.get(f)?.size);
    return sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined;
  };
  let total = totalOf(files);
  let done = 0;
  let downloaded = 0;
  let bytes = 0;
  for (const file of files) {
    const dest = path.join(staging, file);
    const complete = await stat(dest).catch(() => undefined);
    if (complete) {
      done += complete.size;
      bytes += complete.size;
    } else {
      const partBefore = (await stat(`${dest}.part`).catch(() => undefined))?.size ?? 0;
      done += partBefore;
      options.onProgress?.({ file, done, total });
      const result = await downloadFile({
        hub: options,
        url: new URL(
          `${repo}/resolve/${encodeURIComponent(sha)}/${encodeURIComponent(file)}`,
          withSlash(options.endpoint),
        ).href,
        dest,
        size: byName.get(file)?.size,
        sha256: byName.get(file)?.sha256,
        retries: options.retries,
        idleTimeoutMs: options.idleTimeoutMs,
        onBytes: (delta) => {
          done += delta;
          if (delta > 0) downloaded += delta;
          options.onProgress?.({ file, done, total });
        },
      });
      bytes += result.bytes;
    }
    options.onProgress?.({ file, done, total });
    if (file === 'config.json') await checkConfig(staging, repo);
    if (file === INDEX_FILE) {
      // The loop goes on to the shards appended here.
      files.push(...shardsOf(repo, await readFile(dest, 'utf-8'), [...byName.keys()]));
      total = totalOf(files);
    }
  }
  const architecture = await checkConfig(staging, repo);
  await checkWeights(staging, files);
  await rm(path.join(staging, COMMIT_FILE));
  try {
    await rename(staging, dir);
  } catch (error) {
    throw new HubError(`cannot install ${repo} into ${dir}: ${(error as Error).message}`);
  }
  return {
    repo,
    revision,
    commit: sha,
    dir,
    files,
    bytes,
    downloaded: Math.max(downloaded, 0),
    architecture,
  };
}

/**
 * One pull per staging directory: two appending to the same .part would corrupt it. The lock holds
 * the owner's pid, so a lock left by a process that died is taken over.
 */
async function lock(file: string, repo: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(await readFile(file, 'utf-8').catch(() => ''));
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new HubError(`another pull of ${repo} is running (pid ${owner}); if it is not, remove ${file}`);
    }
    await writeFile(file, String(process.pid));
  }
  return () => rm(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A staging directory belongs to one commit: files of another (the branch moved) are discarded. */
async function prepareStaging(staging: string, sha: string): Promise<void> {
  const commit = await readFile(path.join(staging, COMMIT_FILE), 'utf-8').catch(() => undefined);
  if (commit !== undefined && commit.trim() !== sha) await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, COMMIT_FILE), `${sha}\n`);
}

async function installedModel(
  dir: string,
  repo: string,
): Promise<Pick<PullResult, 'files' | 'bytes' | 'architecture'> | undefined> {
  const entries = await readdir(dir).catch(() => undefined);
  if (!entries) return undefined;
  if (!entries.includes('config.json')) {
    throw new HubError(`${dir} exists but holds no config.json: move it away to pull ${repo} there`);
  }
  const files = entries.filter((f) => !f.startsWith('.')).sort();
  const architecture = await checkConfig(dir, repo);
  await checkWeights(dir, files);
  let bytes = 0;
  for (const f of files) bytes += (await stat(path.join(dir, f))).size;
  return { files, bytes, architecture };
}
