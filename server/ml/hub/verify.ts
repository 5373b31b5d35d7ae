/**
 * Checks that a downloaded directory is a model Parley can load, without reading the weights:
 * config.json parses into a supported architecture, and every safetensors header parses and
 * accounts for its file's size exactly.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Architecture, ModelConfigError, readModelConfig } from '../config.js';
import { INDEX_FILE, inspectSafetensorsFile, SafetensorsError } from '../safetensors.js';
import { HubError } from './repo.js';

export async function checkConfig(dir: string, repo: string): Promise<Architecture> {
  try {
    return (await readModelConfig(dir)).architecture;
  } catch (error) {
    if (error instanceof ModelConfigError) {
      throw new HubError(`${repo} is not a model Parley can load: ${error.message}`);
    }
    throw error;
  }
}

/** Checks the header of one safetensors file against its size; returns its tensor count. */
export async function checkSafetensorsHeader(file: string): Promise<number> {
  try {
    return (await inspectSafetensorsFile(file)).length;
  } catch (error) {
    if (error instanceof SafetensorsError) throw new HubError(error.message);
    throw error;
  }
}

/** Every shard the index names must be among the downloaded files. */
export async function checkWeights(dir: string, files: string[]): Promise<number> {
  if (files.includes(INDEX_FILE)) {
    let index: { weight_map?: Record<string, string> } | null;
    try {
      index = JSON.parse(await readFile(path.join(dir, INDEX_FILE), 'utf-8'));
    } catch (error) {
      throw new HubError(`${INDEX_FILE} is not JSON: ${(error as Error).message}`);
    }
    const missing = [...new Set(Object.values(index?.weight_map ?? {}))].filter((s) => !files.includes(s));
    if (missing.length > 0)
      throw new HubError(`${INDEX_FILE} names shards the repo lacks: ${missing.join(', ')}`);
  }
  let tensors = 0;
  for (const file of files.filter((f) => f.endsWith('.safetensors'))) {
    tensors += await checkSafetensorsHeader(path.join(dir, file));
  }
  return tensors;
}
