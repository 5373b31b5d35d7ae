/**
 * Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON
 * header ({name: {dtype, shape, data_offsets}}, plus an optional "__metadata__" of strings), then
 * the raw little-endian tensor bytes. F32, F16 and BF16 decode to Float32Array (exactly: every
 * F16 and BF16 value is an F32 value) and encode back with round-to-nearest-even.
 */
import { type FileHandle, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const DTYPES = ['F32', 'F16', 'BF16'] as const;
export type Dtype = (typeof DTYPES)[number];

const BYTES_PER_ELEMENT: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** Every dtype the format defines, with its size: headers naming them parse, only DTYPES decode. */
const STORAGE_BYTES: Record<string, number> = {
  ...BYTES_PER_ELEMENT,
  F64: 8,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
/** Names that config.json's torch_dtype uses. */
export const TORCH_DTYPE: Record<Dtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export interface StoredTensor {
  /** Any safetensors dtype; only F32, F16 and BF16 decode. */
  dtype: string;
  shape: number[];
  /** The tensor's bytes: a view into the file's buffer, not a copy. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

const elementCount = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

function isStorageDtype(value: unknown): value is string {
  return typeof value === 'string' && Object.hasOwn(STORAGE_BYTES, value);
}

/** One tensor as the header describes it; offsets are relative to the start of the data. */
export interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** Bytes of tensor data the header accounts for (the tensors tile them without gaps or overlaps). */
  dataBytes: number;
}

/**
 * Validates a header's JSON against the format: known dtypes, whole non-negative shapes, offsets
 * that match dtype x shape, and tensors that tile the data from byte 0 with no gap or overlap
 * (what the reference implementation requires). Needs no tensor data, so a download can be
 * checked from its first bytes.
 */
export function parseSafetensorsHeader(json: Uint8Array, source = 'safetensors file'): SafetensorsHeader {
  const bad = (problem: string) => new SafetensorsError(`${source} has a bad header: ${problem}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (error) {
    throw bad(`not JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw bad('expected a JSON object');
  }
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        throw bad('__metadata__ is not an object');
      for (const [key, value] of Object.entries(entry))
        if (typeof value !== 'string') throw bad(`__metadata__.${key} is not a string`);
      metadata = entry as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw bad(`tensor ${name} is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isStorageDtype(dtype)) {
      throw bad(`tensor ${name} has dtype ${JSON.stringify(dtype)}, which safetensors does not define`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`tensor ${name} has shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw bad(`tensor ${name} has data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = elementCount(shape) * STORAGE_BYTES[dtype]!;
    if (end - begin !== expectedBytes) {
      throw bad(
        `tensor ${name} (${dtype} [${shape.join(', ')}]) needs ${expectedBytes} bytes, data_offsets span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  // Sorted by position, each tensor must start where the one before it ends.
  let cursor = 0;
  let previous: HeaderEntry | null = null;
  for (const entry of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (entry.begin < cursor)
      throw bad(`tensor ${entry.name} [${entry.begin}, ${entry.end}) overlaps tensor ${previous!.name}`);
    if (entry.begin > cursor)
      throw bad(`bytes ${cursor} to ${entry.begin} of the data belong to no tensor (before ${entry.name})`);
    cursor = entry.end;
    previous = entry;
  }
  return { entries, metadata, dataBytes: cursor };
}

/** Parses a whole safetensors file held in memory; tensors are views into `buffer`. */
export function parseSafetensors(buffer: Uint8Array, source = 'safetensors file'): SafetensorsFile {
  if (buffer.byteLength < 8) {
    throw new SafetensorsError(
      `${source} is truncated: ${buffer.byteLength} bytes, less than the 8-byte header length`,
    );
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(buffer.byteLength - 8)) {
    throw new SafetensorsError(
      `${source} is truncated: header says ${headerLength} bytes of JSON, the file has ${buffer.byteLength - 8} after the length`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  const { entries, metadata, dataBytes } = parseSafetensorsHeader(buffer.subarray(8, dataStart), source);
  const dataLength = buffer.byteLength - dataStart;
  const tensors = new Map<string, StoredTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    if (end > dataLength) {
      throw new SafetensorsError(
        `${source} is truncated: tensor ${name} ends at byte ${end} of the data, which has ${dataLength} bytes`,
      );
    }
    tensors.set(name, { dtype, shape, bytes: buffer.subarray(dataStart + begin, dataStart + end) });
  }
  if (dataLength > dataBytes) {
    throw new SafetensorsError(
      `${source} has ${dataLength - dataBytes} bytes after the last tensor's data: not one safetensors file`,
    );
  }
  return { tensors, metadata };
}

/** F16 bits -> float, exactly. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** float32 bits -> F16 bits, round to nearest even (what torch's .half() does). */
function floatBitsToHalf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const unbiased = exponent - 127;
  if (unbiased > 15) return sign | 0x7c00;
  if (unbiased >= -14) {
    // Normal half: keep 10 mantissa bits, round the 13 dropped ones to nearest even.
    let half = ((unbiased + 15) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1; // a carry into the exponent is correct
    return sign | half;
  }
  if (unbiased < -25) return sign;
  // Subnormal half: value = m * 2^-24 with the implicit leading bit made explicit.
  const full = mantissa | 0x800000;
  const shift = -unbiased - 14 + 13;
  let half = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && half & 1)) half += 1;
  return sign | half;
}

/** float32 bits -> BF16 bits, round to nearest even; NaN stays a (quiet) NaN. */
function floatBitsToBf16(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Decodes stored little-endian bytes to float32 values. */
export function decodeToFloat32(bytes: Uint8Array, dtype: string): Float32Array {
  if (!isDtype(dtype))
    throw new SafetensorsError(`cannot decode ${dtype} values; supported: ${DTYPES.join(', ')}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / BYTES_PER_ELEMENT[dtype];
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  }
  return out;
}

/** Encodes float32 values as little-endian bytes of `dtype`. */
export function encodeFromFloat32(values: Float32Array, dtype: Dtype): Uint8Array {
  const out = new Uint8Array(values.length * BYTES_PER_ELEMENT[dtype]);
  const view = new DataView(out.buffer);
  if (dtype === 'F32') {
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return out;
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const convert = dtype === 'F16' ? floatBitsToHalf : floatBitsToBf16;
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, convert(bits[i]!), true);
  return out;
}

/** Checks a tensor's shape against the one a model expects. */
export function checkShape(name: string, actual: number[], expected: number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new SafetensorsError(
      `tensor ${name} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`,
    );
  }
}

/** Serializes float32 tensors as one safetensors file with every tensor stored as `dtype`. */
export function serializeSafetensors(
  tensors: Record<string, FloatTensor>,
  dtype: Dtype,
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor.data.length !== elementCount(tensor.shape)) {
      throw new SafetensorsError(
        `tensor ${name}: ${tensor.data.length} values do not fill shape [${tensor.shape.join(', ')}]`,
      );
    }
    const bytes = encodeFromFloat32(tensor.data, dtype);
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // The reference implementation pads the header with spaces so that the data starts 8-aligned.
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf-8');
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

export async function writeSafetensors(
  file: string,
  tensors: Record<string, FloatTensor>,
  dtype: Dtype,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFile(file, serializeSafetensors(tensors, dtype, metadata));
}

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** A checkpoint directory's tensors, kept as stored; each decodes to float32 when asked for. */
export class Checkpoint {
  constructor(
    readonly stored: Map<string, StoredTensor>,
    readonly source: string,
  ) {}

  has(name: string): boolean {
    return this.stored.has(name);
  }

  names(): string[] {
    return [...this.stored.keys()];
  }

  /** The tensor called `name` as float32; throws if it is missing, (when given) has another shape, or is not F32/F16/BF16. */
  get(name: string, expectedShape?: number[]): FloatTensor {
    const tensor = this.stored.get(name);
    if (!tensor) throw new SafetensorsError(`${this.source} has no tensor ${name}`);
    if (expectedShape) {
      try {
        checkShape(name, tensor.shape, expectedShape);
      } catch (error) {
        throw new SafetensorsError(`${this.source}: ${(error as Error).message}`);
      }
    }
    try {
      return { shape: tensor.shape, data: decodeToFloat32(tensor.bytes, tensor.dtype) };
    } catch (error) {
      throw new SafetensorsError(`${this.source}: tensor ${name}: ${(error as Error).message}`);
    }
  }

  /** Element count by stored dtype. */
  dtypes(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of this.stored.values())
      counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + elementCount(t.shape));
    return counts;
  }
}

async function readShard(file: string): Promise<SafetensorsFile> {
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (error) {
    throw new SafetensorsError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return parseSafetensors(buffer, file);
}

/**
 * The shards an index maps tensors to, by shard file: each must be a .safetensors file name in the
 * checkpoint's own directory (an index is input too: "../x" or a number must not be read).
 */
async function readIndex(dir: string): Promise<Map<string, Set<string>> | null> {
  const indexPath = path.join(dir, INDEX_FILE);
  let indexText: string;
  try {
    indexText = await readFile(indexPath, 'utf-8');
  } catch {
    return null;
  }
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(indexText) as { weight_map?: unknown } | null)?.weight_map;
    if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap))
      throw new Error('no weight_map object');
  } catch (error) {
    throw new SafetensorsError(`${indexPath} is not a valid index: ${(error as Error).message}`);
  }
  const byShard = new Map<string, Set<string>>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || path.basename(shard) !== shard || !shard.endsWith('.safetensors'))
      throw new SafetensorsError(
        `${indexPath} maps ${name} to ${JSON.stringify(shard)}, which is not a .safetensors file in ${dir}`,
      );
    if (!byShard.has(shard)) byShard.set(shard, new Set());
    byShard.get(shard)!.add(name);
  }
  return byShard;
}

/**
 * Loads model.safetensors, or the shards that model.safetensors.index.json names (each shard file
 * read once, whatever number of tensors it holds).
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const tensors = new Map<string, StoredTensor>();
  const add = (file: SafetensorsFile, only?: Set<string>) => {
    for (const [name, stored] of file.tensors) if (!only || only.has(name)) tensors.set(name, stored);
  };
  const byShard = await readIndex(dir);
  if (byShard === null) {
    add(await readShard(path.join(dir, SINGLE_FILE)));
    return new Checkpoint(tensors, path.join(dir, SINGLE_FILE));
  }
  for (const [shard, names] of byShard) {
    const file = await readShard(path.join(dir, shard));
    for (const name of names) {
      if (!file.tensors.has(name)) {
        throw new SafetensorsError(
          `${path.join(dir, INDEX_FILE)} maps ${name} to ${shard}, which has no such tensor`,
        );
      }
    }
    add(file, names);
  }
  return new Checkpoint(tensors, dir);
}

/** Header limit from the safetensors format itself (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Checks one safetensors file from its header alone: the header parses and its tensors account
 * for the file's size exactly. Returns the tensor names.
 */
export async function inspectSafetensorsFile(file: string): Promise<string[]> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new SafetensorsError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    const prefix = Buffer.alloc(8);
    if (size < 8 || (await handle.read(prefix, 0, 8, 0)).bytesRead < 8)
      throw new SafetensorsError(`${file} is not a safetensors file: ${size} bytes`);
    const headerLength = prefix.readBigUInt64LE(0);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, size - 8)))
      throw new SafetensorsError(
        `${file} is not a safetensors file: header length ${headerLength} for ${size} bytes`,
      );
    const json = Buffer.alloc(Number(headerLength));
    await handle.read(json, 0, json.length, 8);
    const { entries, dataBytes } = parseSafetensorsHeader(json, file);
    if (8 + json.length + dataBytes !== size)
      throw new SafetensorsError(
        `${file}: the header accounts for ${8 + json.length + dataBytes} bytes, the file has ${size}`,
      );
    return entries.map((entry) => entry.name);
  } finally {
    await handle.close();
  }
}

/** Checks a checkpoint directory (single file or index and shards) from the headers alone. */
export async function inspectCheckpoint(dir: string): Promise<number> {
  const byShard = await readIndex(dir);
  if (byShard === null) return (await inspectSafetensorsFile(path.join(dir, SINGLE_FILE))).length;
  let tensors = 0;
  for (const [shard, names] of byShard) {
    const inShard = new Set(await inspectSafetensorsFile(path.join(dir, shard)));
    for (const name of names)
      if (!inShard.has(name))
        throw new SafetensorsError(
          `${path.join(dir, INDEX_FILE)} maps ${name} to ${shard}, which has no such tensor`,
        );
    tensors += names.size;
  }
  return tensors;
}

/** Writes tensors as shards of at most `maxShardBytes` each, with the HF index file. */
export async function writeShardedCheckpoint(
  dir: string,
  tensors: Record<string, FloatTensor>,
  dtype: Dtype,
  maxShardBytes: number,
): Promise<string[]> {
  const shards: Record<string, FloatTensor>[] = [];
  let current: Record<string, FloatTensor> = {};
  let currentBytes = 0;
  let totalSize = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const bytes = tensor.data.length * BYTES_PER_ELEMENT[dtype];
    if (currentBytes > 0 && currentBytes + bytes > maxShardBytes) {
      shards.push(current);
      current = {};
      currentBytes = 0;
    }
    current[name] = tensor;
    currentBytes += bytes;
    totalSize += bytes;
  }
  if (currentBytes > 0 || shards.length === 0) shards.push(current);
  const names = shards.map(
    (_, i) =>
      `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`,
  );
  const weightMap: Record<string, string> = {};
  for (const [i, shard] of shards.entries()) {
    await writeSafetensors(path.join(dir, names[i]!), shard, dtype);
    for (const name of Object.keys(shard)) weightMap[name] = names[i]!;
  }
  await writeFile(
    path.join(dir, INDEX_FILE),
    `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`,
  );
  return names;
}
