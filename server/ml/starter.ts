/**
 * Parley's starter model, shipped compressed in seed/starter/model/ and installed (decompressed)
 * into PARLEY_DATA_DIR/models/starter on first use, so that a fresh Parley has a bot to talk to and
 * a base model to fine-tune. Any Hugging Face model directory can replace it (PARLEY_BASE_MODEL).
 */
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { type FloatTensor, loadCheckpoint, SINGLE_FILE, serializeSafetensors } from './safetensors.js';

export const STARTER_PACKAGE_DIR = path.join(import.meta.dirname, '..', '..', 'seed', 'starter', 'model');

export const defaultBaseModelDir = (dataDir: string) => path.join(dataDir, 'models', 'starter');

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * Installs the shipped starter model into `targetDir` unless a model (config.json) is already
 * there. The files are staged beside it and renamed into place: an interrupted install leaves
 * nothing half-written behind.
 */
export async function installStarterModel(
  targetDir: string,
  packageDir = STARTER_PACKAGE_DIR,
): Promise<'installed' | 'present'> {
  if (await exists(path.join(targetDir, 'config.json'))) return 'present';
  await mkdir(path.dirname(targetDir), { recursive: true });
  const stage = await mkdtemp(path.join(path.dirname(targetDir), '.starter-'));
  try {
    for (const file of await readdir(packageDir)) {
      if (file.endsWith('.br')) {
        const bytes = brotliDecompressSync(await readFile(path.join(packageDir, file)));
        await writeFile(path.join(stage, file.slice(0, -'.br'.length)), bytes);
      } else {
        await copyFile(path.join(packageDir, file), path.join(stage, file));
      }
    }
    await rm(targetDir, { recursive: true, force: true }); // an empty or broken leftover
    await rename(stage, targetDir);
    return 'installed';
  } catch (error) {
    await rm(stage, { recursive: true, force: true });
    throw error;
  }
}

/** Installs the starter model where PARLEY_BASE_MODEL points, when it points at the default place. */
export async function ensureStarterModel(env: {
  PARLEY_DATA_DIR: string;
  PARLEY_BASE_MODEL: string;
}): Promise<'installed' | 'present' | 'custom'> {
  if (path.resolve(env.PARLEY_BASE_MODEL) !== path.resolve(defaultBaseModelDir(env.PARLEY_DATA_DIR))) {
    return 'custom';
  }
  return installStarterModel(env.PARLEY_BASE_MODEL);
}

/** Files of a model directory the package holds as they are; tokenizer.json and the weights are compressed. */
const PLAIN_FILES = ['config.json', 'generation_config.json', 'tokenizer_config.json'];

const brotli = (bytes: Uint8Array) =>
  brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 },
  });

/** Packs a model directory the way Parley ships its starter model: weights as float16, brotli. */
export async function packStarterModel(buildDir: string, packageDir = STARTER_PACKAGE_DIR): Promise<void> {
  await mkdir(packageDir, { recursive: true });
  for (const file of PLAIN_FILES) {
    if (!(await exists(path.join(buildDir, file)))) continue;
    const text = await readFile(path.join(buildDir, file), 'utf-8');
    const json = file === 'config.json' ? { ...JSON.parse(text), torch_dtype: 'float16' } : JSON.parse(text);
    await writeFile(path.join(packageDir, file), `${JSON.stringify(json, null, 2)}\n`);
  }
  await writeFile(
    path.join(packageDir, 'tokenizer.json.br'),
    brotli(await readFile(path.join(buildDir, 'tokenizer.json'))),
  );
  const checkpoint = await loadCheckpoint(buildDir);
  const tensors: Record<string, FloatTensor> = {};
  for (const name of checkpoint.stored.keys()) tensors[name] = checkpoint.get(name);
  await writeFile(path.join(packageDir, `${SINGLE_FILE}.br`), brotli(serializeSafetensors(tensors, 'F16')));
}
