/**
 * Exports a fine-tuned model as a full Hugging Face model directory: config.json, the weights
 * (adapter merged) as safetensors in the base's dtype or another on request, the base's tokenizer
 * and generation files, and parley.json recording where the model came from.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoraAdapter } from './lora.js';
import { mergeLoraWeights } from './lora-merge.js';
import {
  type Checkpoint,
  DTYPES,
  type Dtype,
  type FloatTensor,
  loadCheckpoint,
  SINGLE_FILE,
  TORCH_DTYPE,
  writeSafetensors,
  writeShardedCheckpoint,
} from './safetensors.js';

/** Files copied from the base directory when present. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
] as const;

export const LINEAGE_FILE = 'parley.json';

/** What parley.json records; written as given, so callers may add fields. */
export interface Lineage {
  baseModel: string;
  dataSnapshot?: string;
  hyperParameters?: Record<string, unknown>;
  privacy?: { epsilon: number; delta: number };
  metrics?: Record<string, number>;
  [field: string]: unknown;
}

export interface ExportOptions {
  /** The base model directory: config.json, weights, tokenizer files. */
  baseDir: string;
  /** Created if missing; must be empty. */
  outDir: string;
  /** Merged into the weights when given. */
  adapter?: LoraAdapter;
  /** Written instead of the base's weights (full fine-tuning; see modelTensors). */
  weights?: Record<string, FloatTensor>;
  /** Stored dtype; default the base's torch_dtype (or, without one, its dominant stored dtype). */
  dtype?: Dtype;
  /** Splits the weights into shards of at most this many bytes, with an index. */
  maxShardBytes?: number;
  lineage: Lineage;
}

export interface ExportResult {
  dtype: Dtype;
  tensorNames: string[];
  copiedFiles: string[];
}

const DTYPE_BY_TORCH = Object.fromEntries(Object.entries(TORCH_DTYPE).map(([d, t]) => [t, d as Dtype]));

function baseDtype(config: Record<string, unknown>, checkpoint: Checkpoint): Dtype {
  const declared = DTYPE_BY_TORCH[String(config.torch_dtype)];
  if (declared) return declared;
  const counts = [...checkpoint.dtypes()].filter(([d]) => (DTYPES as readonly string[]).includes(d));
  counts.sort((a, b) => b[1] - a[1]);
  return (counts[0]?.[0] as Dtype | undefined) ?? 'F32';
}

async function checkOutDir(baseDir: string, outDir: string): Promise<void> {
  if (path.resolve(baseDir) === path.resolve(outDir)) {
    throw new Error(`export directory ${outDir} is the base model directory`);
  }
  let existing: string[];
  try {
    existing = await readdir(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (existing.length > 0) throw new Error(`export directory ${outDir} is not empty (${existing[0]}, ...)`);
}

export async function exportModel(options: ExportOptions): Promise<ExportResult> {
  const { baseDir, outDir, adapter, lineage } = options;
  const config = JSON.parse(await readFile(path.join(baseDir, 'config.json'), 'utf-8')) as Record<
    string,
    unknown
  >;
  const checkpoint = await loadCheckpoint(baseDir);
  await checkOutDir(baseDir, outDir);
  const dtype = options.dtype ?? baseDtype(config, checkpoint);

  if (adapter && options.weights) throw new Error('export either an adapter or full weights, not both');
  let tensors: Record<string, FloatTensor>;
  if (options.weights) {
    tensors = { ...options.weights };
  } else if (adapter) {
    tensors = mergeLoraWeights(checkpoint, adapter);
  } else {
    tensors = {};
    for (const [name, stored] of checkpoint.stored) {
      if ((DTYPES as readonly string[]).includes(stored.dtype)) tensors[name] = checkpoint.get(name);
    }
  }
  // transformers ties lm_head to the embeddings on load; a stored copy would only be dead weight.
  const tied = config.model_type === 'gpt2' || config.tie_word_embeddings === true;
  if (tied) delete tensors['lm_head.weight'];

  // Written beside outDir and renamed into place, so that a failed export leaves no half-written model.
  await mkdir(path.dirname(path.resolve(outDir)), { recursive: true });
  const stage = await mkdtemp(path.join(path.dirname(path.resolve(outDir)), '.parley-export-'));
  const copiedFiles: string[] = [];
  try {
    await writeFile(
      path.join(stage, 'config.json'),
      `${JSON.stringify({ ...config, torch_dtype: TORCH_DTYPE[dtype] }, null, 2)}\n`,
    );
    if (options.maxShardBytes !== undefined) {
      await writeShardedCheckpoint(stage, tensors, dtype, options.maxShardBytes);
    } else {
      await writeSafetensors(path.join(stage, SINGLE_FILE), tensors, dtype);
    }
    for (const file of TOKENIZER_FILES) {
      try {
        await copyFile(path.join(baseDir, file), path.join(stage, file));
        copiedFiles.push(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    await writeFile(path.join(stage, LINEAGE_FILE), `${JSON.stringify(lineage, null, 2)}\n`);
    // checkOutDir found it missing or empty; rmdir removes only an empty directory.
    await rmdir(outDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(stage, outDir);
  } catch (error) {
    await rm(stage, { recursive: true, force: true });
    throw error;
  }
  return { dtype, tensorNames: Object.keys(tensors), copiedFiles };
}
