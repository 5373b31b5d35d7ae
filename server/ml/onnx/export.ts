/**
 * Exports a model directory (Hugging Face layout, safetensors) to ONNX in the layout
 * transformers.js's AutoModelForCausalLM loads: onnx/model.onnx (float32) beside config.json,
 * generation_config.json and the tokenizer files.
 *
 * Written into the model directory itself (outDir omitted), it only adds onnx/: the directory then
 * loads in tfjs and in transformers.js alike. A stamp (onnx/parley-onnx.json) records the exporter
 * version and the weights it was made from, so that ensureOnnxExport() exports once per version.
 */
import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { readModelConfig } from '../config.js';
import { TOKENIZER_FILES } from '../export.js';
import { INDEX_FILE, loadCheckpoint, SINGLE_FILE } from '../safetensors.js';
import { buildLlamaGraph, ONNX_OPSET } from './llama-graph.js';
import { writeOnnxModel } from './write-model.js';

/** Bump when the graph changes, so that cached exports are redone. */
export const ONNX_EXPORTER_VERSION = 1;
export const ONNX_SUBDIR = 'onnx';
export const ONNX_MODEL_FILE = 'model.onnx';
export const ONNX_STAMP_FILE = 'parley-onnx.json';
/** Held (created exclusively) while one thread or process exports; others wait for it. */
export const ONNX_LOCK_FILE = '.export.lock';
/** A lock older than this is taken to be left by a crashed exporter. */
const STALE_LOCK_MS = 10 * 60_000;

export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

export interface OnnxExportResult {
  /** The directory transformers.js loads (holds config.json and onnx/model.onnx). */
  dir: string;
  modelFile: string;
  bytes: number;
  /** False when a valid cached export was reused. */
  exported: boolean;
  seconds: number;
}

interface Stamp {
  exporter: number;
  opset: number;
  /** Size and modification time of each weights file the export read. */
  sources: Record<string, { size: number; mtimeMs: number }>;
}

async function weightSources(dir: string): Promise<Stamp['sources']> {
  const sources: Stamp['sources'] = {};
  for (const file of [SINGLE_FILE, INDEX_FILE, 'config.json']) {
    const info = await stat(path.join(dir, file)).catch(() => undefined);
    if (info) sources[file] = { size: info.size, mtimeMs: Math.floor(info.mtimeMs) };
  }
  return sources;
}

async function readStamp(dir: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, ONNX_SUBDIR, ONNX_STAMP_FILE), 'utf-8')) as Stamp;
  } catch {
    return undefined;
  }
}

/**
 * Writes `modelDir`'s weights as `outDir`/onnx/model.onnx (outDir defaults to modelDir); when outDir
 * is another directory, config.json and the tokenizer and generation files are copied beside it.
 */
export async function exportOnnx(modelDir: string, outDir: string = modelDir): Promise<OnnxExportResult> {
  const started = performance.now();
  if (endianness() !== 'LE')
    throw new OnnxExportError('ONNX raw tensor data is little-endian; this CPU is not');
  const config = await readModelConfig(modelDir);
  if (config.architecture !== 'llama' && config.architecture !== 'qwen2') {
    throw new OnnxExportError(`ONNX export supports llama and qwen2; ${modelDir} is ${config.architecture}`);
  }
  const checkpoint = await loadCheckpoint(modelDir);
  const graph = buildLlamaGraph(config, checkpoint);
  const onnxDir = path.join(outDir, ONNX_SUBDIR);
  await mkdir(onnxDir, { recursive: true });
  if (path.resolve(outDir) !== path.resolve(modelDir)) {
    for (const file of ['config.json', ...TOKENIZER_FILES]) {
      await copyFile(path.join(modelDir, file), path.join(outDir, file)).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        },
      );
    }
  }
  const modelFile = path.join(onnxDir, ONNX_MODEL_FILE);
  const bytes = await writeOnnxModel(modelFile, graph, {
    opset: ONNX_OPSET,
    producerVersion: String(ONNX_EXPORTER_VERSION),
    docString: `${config.architecture} exported by Parley from ${path.basename(path.resolve(modelDir))}`,
    metadata: { architecture: config.architecture },
  });
  const stamp: Stamp = {
    exporter: ONNX_EXPORTER_VERSION,
    opset: ONNX_OPSET,
    sources: await weightSources(modelDir),
  };
  const stampFile = path.join(onnxDir, ONNX_STAMP_FILE);
  await writeFile(`${stampFile}.${process.pid}-${threadId}`, `${JSON.stringify(stamp, null, 2)}\n`);
  await rename(`${stampFile}.${process.pid}-${threadId}`, stampFile);
  return { dir: outDir, modelFile, bytes, exported: true, seconds: (performance.now() - started) / 1000 };
}

async function cachedExport(modelDir: string, started: number): Promise<OnnxExportResult | undefined> {
  const modelFile = path.join(modelDir, ONNX_SUBDIR, ONNX_MODEL_FILE);
  const [stamp, sources, info] = await Promise.all([
    readStamp(modelDir),
    weightSources(modelDir),
    stat(modelFile).catch(() => undefined),
  ]);
  if (!info || stamp?.exporter !== ONNX_EXPORTER_VERSION) return undefined;
  if (JSON.stringify(stamp.sources) !== JSON.stringify(sources)) return undefined;
  return {
    dir: modelDir,
    modelFile,
    bytes: info.size,
    exported: false,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * onnx/model.onnx in `modelDir`: exported now unless its stamp shows this exporter made it from
 * these weights. Threads and processes that ask at once export it once: one holds a lock file,
 * the others wait for it and then reuse its export.
 */
export async function ensureOnnxExport(modelDir: string): Promise<OnnxExportResult> {
  const started = performance.now();
  const lock = path.join(modelDir, ONNX_SUBDIR, ONNX_LOCK_FILE);
  for (;;) {
    const cached = await cachedExport(modelDir, started);
    if (cached) return cached;
    await mkdir(path.dirname(lock), { recursive: true });
    const handle = await open(lock, 'wx').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return undefined;
      throw error;
    });
    if (handle) {
      try {
        await handle.close();
        return (await cachedExport(modelDir, started)) ?? (await exportOnnx(modelDir));
      } finally {
        await rm(lock, { force: true });
      }
    }
    const held = await stat(lock).catch(() => undefined);
    if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await rm(lock, { force: true });
    else await sleep(100);
  }
}
