/**
 * Training checkpoints on disk: one directory per step under the job's `checkpoints/`, written
 * whole into a temporary directory and renamed into place, so a checkpoint either exists complete
 * or not at all, whenever the process dies. The last few are kept.
 *
 *   checkpoints/step-00000040/
 *     adapter_model.safetensors   the trained tensors (LoRA A and B under PEFT's names), float32
 *     adapter_config.json         so the directory also loads as a PEFT adapter
 *     optimizer.safetensors       AdamW's moments: <tensor>.exp_avg and <tensor>.exp_avg_sq
 *     trainer_state.json          step, data position, loop counters, generator positions,
 *                                 AdamW's step count and the privacy accountant's state
 */
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  decodeToFloat32,
  type FloatTensor,
  parseSafetensors,
  serializeSafetensors,
} from '../ml/safetensors.js';
import type { AccountantState } from '../privacy/dp/accountant.js';
import type { DataPosition } from './plans.js';
import type { LoopState, TrainerSnapshot } from './trainer.js';

export const CHECKPOINTS_DIR = 'checkpoints';
export const WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'trainer_state.json';
const FORMAT = 'parley-training-checkpoint';
const VERSION = 1;

/** How the trained variables are named and shaped in the files (PEFT's names for LoRA). */
export interface CheckpointLayout {
  names: string[];
  shapes: number[][];
  /** Written as adapter_config.json. */
  adapterConfig?: Record<string, unknown>;
}

interface StateFile {
  format: typeof FORMAT;
  version: number;
  step: number;
  totalSteps: number;
  position: DataPosition;
  optimizer: { step: number };
  loop: LoopState;
  random: TrainerSnapshot['random'];
  accountant: AccountantState | null;
  savedAt: string;
}

export interface SavedCheckpoint {
  step: number;
  dir: string;
}

const dirName = (step: number) => `step-${String(step).padStart(8, '0')}`;
const STEP_DIR = /^step-(\d{8,})$/;

async function writeSynced(file: string, data: string | Uint8Array): Promise<void> {
  await writeFile(file, data);
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Checkpoints present in `jobDir`, oldest first. */
export async function listCheckpoints(jobDir: string): Promise<SavedCheckpoint[]> {
  const root = path.join(jobDir, CHECKPOINTS_DIR);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .flatMap((name) => {
      const match = STEP_DIR.exec(name);
      return match ? [{ step: Number(match[1]), dir: path.join(root, name) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

export async function latestCheckpoint(jobDir: string): Promise<SavedCheckpoint | null> {
  return (await listCheckpoints(jobDir)).at(-1) ?? null;
}

/** Writes `snapshot` atomically and keeps the newest `keep` checkpoints. */
export async function writeCheckpoint(
  jobDir: string,
  snapshot: TrainerSnapshot,
  layout: CheckpointLayout,
  options: { keep?: number } = {},
): Promise<SavedCheckpoint> {
  const keep = Math.max(1, options.keep ?? 3);
  if (layout.names.length !== snapshot.variables.length) {
    throw new Error(
      `checkpoint layout names ${layout.names.length} tensors, the snapshot has ${snapshot.variables.length}`,
    );
  }
  const root = path.join(jobDir, CHECKPOINTS_DIR);
  await mkdir(root, { recursive: true });
  const stage = await mkdtemp(path.join(root, '.partial-'));
  try {
    const weights: Record<string, FloatTensor> = {};
    const moments: Record<string, FloatTensor> = {};
    layout.names.forEach((name, i) => {
      const shape = layout.shapes[i]!;
      weights[name] = { shape, data: snapshot.variables[i]! };
      moments[`${name}.exp_avg`] = { shape, data: snapshot.optimizer.m[i]! };
      moments[`${name}.exp_avg_sq`] = { shape, data: snapshot.optimizer.v[i]! };
    });
    await writeSynced(path.join(stage, WEIGHTS_FILE), serializeSafetensors(weights, 'F32'));
    await writeSynced(
      path.join(stage, OPTIMIZER_FILE),
      serializeSafetensors(moments, 'F32', { format: 'pt', step: String(snapshot.optimizer.step) }),
    );
    if (layout.adapterConfig) {
      await writeSynced(
        path.join(stage, ADAPTER_CONFIG_FILE),
        `${JSON.stringify(layout.adapterConfig, null, 2)}\n`,
      );
    }
    const state: StateFile = {
      format: FORMAT,
      version: VERSION,
      step: snapshot.step,
      totalSteps: snapshot.totalSteps,
      position: snapshot.position,
      optimizer: { step: snapshot.optimizer.step },
      loop: snapshot.loop,
      random: snapshot.random,
      accountant: snapshot.accountant,
      savedAt: new Date().toISOString(),
    };
    await writeSynced(path.join(stage, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);

    const target = path.join(root, dirName(snapshot.step));
    // The same step again (a cancel right after a resume): swap the old one out, then drop it.
    const displaced = `${stage}.old`;
    try {
      await rename(target, displaced);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await rename(stage, target);
    await rm(displaced, { recursive: true, force: true });
  } catch (error) {
    await rm(stage, { recursive: true, force: true });
    throw error;
  }

  // Leftovers of a process killed mid-write, and checkpoints beyond the newest `keep`.
  for (const name of await readdir(root)) {
    if (name.startsWith('.partial-') && !name.startsWith(path.basename(stage))) {
      await rm(path.join(root, name), { recursive: true, force: true });
    }
  }
  const all = await listCheckpoints(jobDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    await rm(old.dir, { recursive: true, force: true });
  }
  return { step: snapshot.step, dir: path.join(root, dirName(snapshot.step)) };
}

function tensorsOf(file: Uint8Array, source: string): Map<string, { shape: number[]; data: Float32Array }> {
  const parsed = parseSafetensors(file, source);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, stored] of parsed.tensors) {
    out.set(name, { shape: stored.shape, data: decodeToFloat32(stored.bytes, stored.dtype) });
  }
  return out;
}

/** Reads a checkpoint back into a snapshot, checking every tensor against `layout`. */
export async function readCheckpoint(dir: string, layout: CheckpointLayout): Promise<TrainerSnapshot> {
  const state = JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as StateFile;
  if (state.format !== FORMAT || state.version !== VERSION) {
    throw new Error(`${dir} is not a version ${VERSION} Parley training checkpoint`);
  }
  const weights = tensorsOf(await readFile(path.join(dir, WEIGHTS_FILE)), path.join(dir, WEIGHTS_FILE));
  const moments = tensorsOf(await readFile(path.join(dir, OPTIMIZER_FILE)), path.join(dir, OPTIMIZER_FILE));
  const take = (
    from: Map<string, { shape: number[]; data: Float32Array }>,
    name: string,
    shape: number[],
  ) => {
    const tensor = from.get(name);
    if (!tensor) throw new Error(`checkpoint ${dir} has no tensor ${name}`);
    if (tensor.shape.join(',') !== shape.join(',')) {
      throw new Error(
        `checkpoint tensor ${name} is [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`,
      );
    }
    return tensor.data;
  };
  return {
    step: state.step,
    totalSteps: state.totalSteps,
    position: state.position,
    variables: layout.names.map((name, i) => take(weights, name, layout.shapes[i]!)),
    optimizer: {
      step: state.optimizer.step,
      m: layout.names.map((name, i) => take(moments, `${name}.exp_avg`, layout.shapes[i]!)),
      v: layout.names.map((name, i) => take(moments, `${name}.exp_avg_sq`, layout.shapes[i]!)),
    },
    loop: state.loop,
    random: state.random,
    accountant: state.accountant,
  };
}
