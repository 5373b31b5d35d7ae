import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkShape,
  type Dtype,
  decodeToFloat32,
  encodeFromFloat32,
  loadCheckpoint,
  parseSafetensors,
  serializeSafetensors,
  writeSafetensors,
  writeShardedCheckpoint,
} from '../../../../server/ml/safetensors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every finite bit pattern of a 16-bit float, plus the infinities (NaN payloads are not kept). */
function allFinite16(dtype: 'F16' | 'BF16'): Uint8Array {
  const exponentMask = dtype === 'F16' ? 0x7c00 : 0x7f80;
  const fractionMask = dtype === 'F16' ? 0x03ff : 0x007f;
  const patterns: number[] = [];
  for (let bits = 0; bits < 0x10000; bits++) {
    const nan = (bits & exponentMask) === exponentMask && (bits & fractionMask) !== 0;
    if (!nan) patterns.push(bits);
  }
  return new Uint8Array(new Uint16Array(patterns).buffer);
}

function randomF32Bytes(count: number): Uint8Array {
  const values = new Float32Array(count);
  let state = 12345;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = ((state / 2 ** 32) * 2 - 1) * 10 ** ((i % 9) - 4);
  }
  return new Uint8Array(values.buffer);
}

describe('dtype codecs', () => {
  it.each<[Dtype, () => Uint8Array]>([
    ['F32', () => randomF32Bytes(4096)],
    ['F16', () => allFinite16('F16')],
    ['BF16', () => allFinite16('BF16')],
  ])('decode then encode of %s is bit-exact', (dtype, bytes) => {
    const stored = bytes();
    expect(encodeFromFloat32(decodeToFloat32(stored, dtype), dtype)).toEqual(stored);
  });

  it.each<[Dtype, number, number]>([
    ['F16', 1, 1],
    ['F16', 65504, 65504],
    ['F16', 65520, Number.POSITIVE_INFINITY], // half-way to the next binade rounds up: overflow
    ['F16', 1 + 2 ** -11, 1], // a tie rounds to the even mantissa
    ['F16', 1 + 3 * 2 ** -11, 1 + 2 ** -9],
    ['F16', 2 ** -24, 2 ** -24], // smallest subnormal
    ['F16', 2 ** -25, 0], // tie between 0 and the smallest subnormal: even is 0
    ['F16', -(2 ** -14), -(2 ** -14)],
    ['BF16', 1 + 2 ** -8, 1], // tie to even
    ['BF16', 1 + 3 * 2 ** -8, 1 + 2 ** -6],
    ['BF16', 3.140625, 3.140625],
    ['BF16', -3 * 2 ** -134, -(2 ** -132)], // a subnormal tie rounds to even too
  ])('%s stores %d as %d', (dtype, value, expected) => {
    const back = decodeToFloat32(encodeFromFloat32(new Float32Array([value]), dtype), dtype)[0]!;
    expect(back).toBe(expected);
  });

  it('keeps NaN a NaN in every dtype', () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      expect(decodeToFloat32(encodeFromFloat32(new Float32Array([Number.NaN]), dtype), dtype)[0]).toBeNaN();
    }
  });
});

describe('safetensors files', () => {
  const tensors = {
    'model.embed_tokens.weight': {
      shape: [3, 4],
      data: Float32Array.from({ length: 12 }, (_, i) => i / 8 - 0.5),
    },
    'model.norm.weight': { shape: [4], data: new Float32Array([1, -2, 0.25, 1024]) },
    scalar: { shape: [], data: new Float32Array([7]) },
  };

  it.each<Dtype>(['F32', 'F16', 'BF16'])(
    'round-trips a %s file through disk with names, shapes and values',
    async (dtype) => {
      const file = path.join(dir, `round-${dtype}.safetensors`);
      await writeSafetensors(file, tensors, dtype, { format: 'pt', note: 'x' });
      const bytes = await readFile(file);
      const headerLength = Number(bytes.readBigUInt64LE(0));
      expect((8 + headerLength) % 8).toBe(0);
      const parsed = parseSafetensors(bytes);
      expect(parsed.metadata).toEqual({ format: 'pt', note: 'x' });
      expect([...parsed.tensors.keys()]).toEqual(Object.keys(tensors));
      for (const [name, t] of Object.entries(tensors)) {
        const stored = parsed.tensors.get(name)!;
        expect(stored.dtype).toBe(dtype);
        expect(stored.shape).toEqual(t.shape);
        expect(decodeToFloat32(stored.bytes, dtype)).toEqual(t.data); // all values are exact in 16 bits
        expect(stored.bytes.buffer).toBe(bytes.buffer); // a view, not a copy
      }
      // Writing what was read gives the same file.
      const reread = Object.fromEntries(
        [...parsed.tensors].map(([n, s]) => [n, { shape: s.shape, data: decodeToFloat32(s.bytes, s.dtype) }]),
      );
      expect(serializeSafetensors(reread, dtype, parsed.metadata)).toEqual(new Uint8Array(bytes));
    },
  );

  const good = serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } }, 'F32');
  const withHeader = (header: unknown, data = new Uint8Array(16)) => {
    const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };

  it.each<[string, Uint8Array, RegExp]>([
    ['shorter than the length prefix', good.subarray(0, 5), /truncated: 5 bytes/],
    ['cut inside the header', good.subarray(0, 20), /truncated: header says \d+ bytes of JSON/],
    [
      'cut inside the data',
      good.subarray(0, good.length - 1),
      /truncated: tensor w ends at byte 16 of the data, which has 15/,
    ],
    ['a header that is not JSON', withHeader('{"w": {'), /bad header: not JSON/],
    ['a header that is an array', withHeader([]), /bad header: expected a JSON object/],
    [
      'a dtype safetensors does not define',
      withHeader({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } }),
      /bad header: tensor w has dtype "Q4", which safetensors does not define/,
    ],
    [
      'a negative dimension',
      withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }),
      /bad header: tensor w has shape \[-1\]/,
    ],
    [
      'reversed offsets',
      withHeader({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }),
      /data_offsets \[8,4\]/,
    ],
    [
      'offsets that disagree with the shape',
      withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }),
      /needs 12 bytes, data_offsets span 16/,
    ],
  ])('rejects a file with %s', (_, bytes, message) => {
    expect(() => parseSafetensors(bytes)).toThrow(message);
  });

  it('accepts the same bytes when nothing is wrong (control for the rejections above)', () => {
    expect(parseSafetensors(good).tensors.get('w')!.shape).toEqual([2, 2]);
    expect(
      parseSafetensors(withHeader({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } })).tensors.size,
    ).toBe(1);
  });

  it.each<[number[], number[], boolean]>([
    [[2, 3], [2, 3], true],
    [[2, 3], [3, 2], false],
    [[6], [2, 3], false],
    [[], [], true],
  ])('checkShape %j against %j passes: %s', (actual, expected, passes) => {
    const check = () => checkShape('t', actual, expected);
    if (passes) expect(check).not.toThrow();
    else
      expect(check).toThrow(`tensor t has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  });
});

describe('checkpoint directories', () => {
  const weights = Object.fromEntries(
    Array.from({ length: 5 }, (_, i) => [
      `layers.${i}.weight`,
      { shape: [4, 8], data: Float32Array.from({ length: 32 }, (_, j) => (i * 32 + j) / 64) },
    ]),
  );

  it.each<[Dtype, number, number]>([
    ['F32', 128, 5],
    ['BF16', 128, 3],
    ['F16', 10_000, 1],
  ])(
    'loads a %s checkpoint sharded at %d bytes (%d shards) with every tensor intact',
    async (dtype, maxBytes, shardCount) => {
      const sub = await mkdtemp(path.join(dir, 'sharded-'));
      const shards = await writeShardedCheckpoint(sub, weights, dtype, maxBytes);
      expect(shards).toHaveLength(shardCount);
      const index = JSON.parse(await readFile(path.join(sub, 'model.safetensors.index.json'), 'utf-8'));
      expect(Object.keys(index.weight_map)).toEqual(Object.keys(weights));
      const checkpoint = await loadCheckpoint(sub);
      for (const [name, t] of Object.entries(weights)) {
        expect(checkpoint.get(name, [4, 8]).data).toEqual(t.data);
      }
      expect(checkpoint.dtypes()).toEqual(new Map([[dtype, 160]]));
    },
  );

  it('reads a checkpoint holding integer buffers, and refuses to decode only those', async () => {
    const sub = await mkdtemp(path.join(dir, 'mixed-'));
    const f32 = serializeSafetensors({ w: { shape: [2], data: new Float32Array([1.5, -2]) } }, 'F32');
    // Splice an I64 [2] tensor after the F32 one, the way a position_ids buffer can sit in a checkpoint.
    const header = JSON.stringify({
      w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      position_ids: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
    });
    const bytes = new Uint8Array(8 + header.length + 24);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(Buffer.from(header), 8);
    bytes.set(f32.subarray(f32.length - 8), 8 + header.length);
    await writeFile(path.join(sub, 'model.safetensors'), bytes);
    const checkpoint = await loadCheckpoint(sub);
    expect(checkpoint.get('w').data).toEqual(new Float32Array([1.5, -2]));
    expect(checkpoint.dtypes()).toEqual(
      new Map([
        ['F32', 2],
        ['I64', 2],
      ]),
    );
    expect(() => checkpoint.get('position_ids')).toThrow(
      /tensor position_ids: cannot decode I64 values; supported: F32, F16, BF16/,
    );
  });

  it('loads a single-file checkpoint and names what is missing or misshapen', async () => {
    const sub = await mkdtemp(path.join(dir, 'single-'));
    await writeSafetensors(path.join(sub, 'model.safetensors'), weights, 'F32');
    const checkpoint = await loadCheckpoint(sub);
    expect(checkpoint.get('layers.0.weight', [4, 8]).data[1]).toBe(1 / 64);
    expect(() => checkpoint.get('lm_head.weight')).toThrow(/has no tensor lm_head\.weight/);
    expect(() => checkpoint.get('layers.0.weight', [8, 4])).toThrow(/has shape \[4, 8\], expected \[8, 4\]/);
  });

  it.each<[string, (sub: string) => Promise<void>, RegExp]>([
    ['no checkpoint file', async () => {}, /cannot read .*model\.safetensors/],
    [
      'an index naming a tensor its shard lacks',
      async (sub) => {
        await writeSafetensors(path.join(sub, 'a.safetensors'), { x: weights['layers.0.weight']! }, 'F32');
        await writeFile(
          path.join(sub, 'model.safetensors.index.json'),
          JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'a.safetensors' } }),
        );
      },
      /maps y to a\.safetensors, which has no such tensor/,
    ],
    [
      'an index without a weight_map',
      async (sub) => writeFile(path.join(sub, 'model.safetensors.index.json'), '{}'),
      /not a valid index/,
    ],
    [
      'a truncated shard',
      async (sub) => {
        const bytes = serializeSafetensors(weights, 'F32');
        await writeFile(path.join(sub, 'model.safetensors'), bytes.subarray(0, bytes.length - 3));
      },
      /model\.safetensors is truncated/,
    ],
  ])('fails clearly for %s', async (_, setup, message) => {
    const sub = await mkdtemp(path.join(dir, 'bad-'));
    await setup(sub);
    await expect(loadCheckpoint(sub)).rejects.toThrow(message);
  });
});
