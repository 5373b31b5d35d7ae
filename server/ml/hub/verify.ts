/**
 * Checks that a downloaded directory is a model Parley can load, without reading the weights:
 * config.json parses into a supported architecture, and every safetensors header parses and
 * accounts for its file's size exactly.
 */
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Architecture, ModelConfigError, readModelConfig } from '../config.js';
import { INDEX_FILE } from '../safetensors.js';
import { HubError } from './repo.js';

/** Header limit from the safetensors format itself (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

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

/** Parses the JSON header of one safetensors file; returns its tensor count. */
export async function checkSafetensorsHeader(file: string): Promise<number> {
  const { size } = await stat(file);
  const handle = await open(file, 'r');
  try {
    const prefix = Buffer.alloc(8);
    if (size < 8 || (await handle.read(prefix, 0, 8, 0)).bytesRead < 8) {
      throw new HubError(`${file} is not a safetensors file: ${size} bytes`);
    }
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
      throw new HubError(
        `${file} is not a safetensors file: header length ${headerLength} for ${size} bytes`,
      );
    }
    const header = Buffer.alloc(headerLength);
    await handle.read(header, 0, headerLength, 8);
    let entries: Record<string, { data_offsets?: [number, number] }>;
    try {
      entries = JSON.parse(header.toString('utf-8'));
    } catch (error) {
      throw new HubError(`${file}: the safetensors header is not JSON: ${(error as Error).message}`);
    }
    let end = 0;
    let tensors = 0;
    for (const [name, entry] of Object.entries(entries)) {
      if (name === '__metadata__') continue;
      const offsets = entry?.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2) {
        throw new HubError(`${file}: tensor ${name} has no data_offsets`);
      }
      end = Math.max(end, offsets[1]);
      tensors++;
    }
    if (8 + headerLength + end !== size) {
      throw new HubError(
        `${file}: the header accounts for ${8 + headerLength + end} bytes, the file has ${size}`,
      );
    }
    return tensors;
  } finally {
    await handle.close();
  }
}

/** Every shard the index names must be among the downloaded files. */
export async function checkWeights(dir: string, files: string[]): Promise<number> {
  if (files.includes(INDEX_FILE)) {
    const index = JSON.parse(await readFile(path.join(dir, INDEX_FILE), 'utf-8')) as {
      weight_map?: Record<string, string>;
    };
    const missing = [...new Set(Object.values(index.weight_map ?? {}))].filter((s) => !files.includes(s));
    if (missing.length > 0)
      throw new HubError(`${INDEX_FILE} names shards the repo lacks: ${missing.join(', ')}`);
  }
  let tensors = 0;
  for (const file of files.filter((f) => f.endsWith('.safetensors'))) {
    tensors += await checkSafetensorsHeader(path.join(dir, file));
  }
  return tensors;
}
