/**
 * Truncated and malformed model directories: safetensors cut short, header lengths past the end,
 * headers that are not JSON, offsets out of range or overlapping, dtype and shape mismatches, a
 * bad index and a config.json with wrong types. Every path that reads a model directory (loading
 * it, checking a download, registering it as a version) names the file and the problem, and the
 * registry stays empty. Serving a broken version is covered in serving.test.ts.
 */
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { loadModel } from '../../server/ml/architectures/registry.js';
import { useBackend } from '../../server/ml/backend.js';
import { checkWeights } from '../../server/ml/hub/verify.js';
import { INDEX_FILE, inspectCheckpoint } from '../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { registerStarterVersion } from '../../server/registry/starter-version.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { snapshotState, stateChanges } from '../support/state-snapshot.js';

const WEIGHTS = 'model.safetensors';

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | unknown>;

/** Splits a safetensors file into its header object and its data bytes. */
async function readParts(file: string): Promise<{ header: Header; data: Buffer }> {
  const bytes = await readFile(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return {
    header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf-8')),
    data: bytes.subarray(8 + length),
  };
}

/** Writes a header (object or raw text) in front of data, with a correct length prefix unless given one. */
async function writeParts(file: string, header: unknown, data: Uint8Array, length?: bigint): Promise<void> {
  const json = Buffer.isBuffer(header)
    ? header
    : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(length ?? BigInt(json.length));
  await writeFile(file, Buffer.concat([prefix, json, data]));
}

const tensorsOf = (header: Header) =>
  Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, entry]) => ({
      name,
      ...(entry as { dtype: string; shape: number[]; data_offsets: [number, number] }),
    }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);

/** Rewrites model.safetensors' header in place, keeping its data. */
const editHeader = (edit: (header: Header) => void) => async (dir: string) => {
  const file = path.join(dir, WEIGHTS);
  const { header, data } = await readParts(file);
  edit(header);
  await writeParts(file, header, data);
};

const editConfig = (edit: (config: Record<string, unknown>) => unknown) => async (dir: string) => {
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(await readFile(file, 'utf-8'));
  const edited = edit(config);
  await writeFile(file, typeof edited === 'string' ? edited : JSON.stringify(edited ?? config));
};

interface BadDir {
  /** What is wrong, in the test's name. */
  name: string;
  break: (dir: string) => Promise<void>;
  /** The file the error must name, relative to the directory. */
  file: string;
  /** What loading the model says. */
  load: RegExp;
  /** What a header-only check says (downloads, registration); null when it reads no weights' bytes that are wrong. */
  headers: RegExp | null;
}

const BAD_DIRS: BadDir[] = [
  {
    name: 'data cut short',
    break: async (dir) => {
      const file = path.join(dir, WEIGHTS);
      await truncate(file, (await readFile(file)).length - 10);
    },
    file: WEIGHTS,
    load: /is truncated: tensor \S+ ends at byte \d+ of the data, which has \d+ bytes/,
    headers: /the header accounts for \d+ bytes, the file has \d+/,
  },
  {
    name: 'a file cut inside its header',
    break: (dir) => truncate(path.join(dir, WEIGHTS), 40),
    file: WEIGHTS,
    load: /is truncated: header says \d+ bytes of JSON, the file has 32/,
    headers: /is not a safetensors file: header length \d+ for 40 bytes/,
  },
  {
    name: 'a file shorter than the length prefix',
    break: (dir) => truncate(path.join(dir, WEIGHTS), 3),
    file: WEIGHTS,
    load: /is truncated: 3 bytes, less than the 8-byte header length/,
    headers: /is not a safetensors file: 3 bytes/,
  },
  {
    name: 'an empty file',
    break: (dir) => writeFile(path.join(dir, WEIGHTS), ''),
    file: WEIGHTS,
    load: /is truncated: 0 bytes/,
    headers: /is not a safetensors file: 0 bytes/,
  },
  {
    name: 'a header length beyond the file',
    break: async (dir) => {
      const { header, data } = await readParts(path.join(dir, WEIGHTS));
      await writeParts(path.join(dir, WEIGHTS), header, data, 1n << 40n);
    },
    file: WEIGHTS,
    load: /is truncated: header says 1099511627776 bytes of JSON/,
    headers: /is not a safetensors file: header length 1099511627776/,
  },
  {
    name: 'the largest header length there is',
    break: async (dir) => {
      const { header, data } = await readParts(path.join(dir, WEIGHTS));
      await writeParts(path.join(dir, WEIGHTS), header, data, (1n << 64n) - 1n);
    },
    file: WEIGHTS,
    load: /is truncated: header says 18446744073709551615 bytes/,
    headers: /is not a safetensors file: header length 18446744073709551615/,
  },
  {
    name: 'a header that is not JSON',
    break: async (dir) => {
      const { header, data } = await readParts(path.join(dir, WEIGHTS));
      await writeParts(path.join(dir, WEIGHTS), JSON.stringify(header).replace('{', '<'), data);
    },
    file: WEIGHTS,
    load: /has a bad header: not JSON/,
    headers: /has a bad header: not JSON/,
  },
  {
    name: 'a header that is not UTF-8',
    break: async (dir) => {
      const { data } = await readParts(path.join(dir, WEIGHTS));
      await writeParts(path.join(dir, WEIGHTS), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), data);
    },
    file: WEIGHTS,
    load: /has a bad header: not JSON/,
    headers: /has a bad header: not JSON/,
  },
  ...(
    [
      ['null', 'null', /expected a JSON object/],
      ['an array', '[]', /expected a JSON object/],
      ['a tensor that is null', '{"w": null}', /tensor w is not an object/],
      [
        '__metadata__ with a number',
        '{"__metadata__": {"format": 1}}',
        /__metadata__\.format is not a string/,
      ],
      ['__metadata__ that is a string', '{"__metadata__": "pt"}', /__metadata__ is not an object/],
    ] as const
  ).map(
    ([label, json, message]): BadDir => ({
      name: `a header that is ${label}`,
      break: async (dir) =>
        writeParts(path.join(dir, WEIGHTS), json, (await readParts(path.join(dir, WEIGHTS))).data),
      file: WEIGHTS,
      load: message,
      headers: message,
    }),
  ),
  ...(
    [
      ['negative offsets', (t: { data_offsets: number[] }) => (t.data_offsets = [-4, 4])],
      ['offsets past 2^53', (t: { data_offsets: number[] }) => (t.data_offsets = [2 ** 60, 2 ** 60 + 4])],
      ['reversed offsets', (t: { data_offsets: number[] }) => t.data_offsets.reverse()],
      ['fractional offsets', (t: { data_offsets: number[] }) => (t.data_offsets = [0.5, 4.5])],
      [
        'offsets as strings',
        (t: { data_offsets: unknown[] }) => (t.data_offsets = t.data_offsets.map(String)),
      ],
      ['three offsets', (t: { data_offsets: number[] }) => t.data_offsets.push(0)],
    ] as const
  ).map(
    ([label, edit]): BadDir => ({
      name: `a tensor with ${label}`,
      break: editHeader((header) => edit(header[tensorsOf(header).at(-1)!.name] as never)),
      file: WEIGHTS,
      load: /has a bad header: tensor \S+ has data_offsets/,
      headers: /has a bad header: tensor \S+ has data_offsets/,
    }),
  ),
  {
    name: 'offsets past the end of the data',
    break: editHeader((header) => {
      const last = tensorsOf(header).at(-1)!;
      const entry = header[last.name] as { data_offsets: [number, number] };
      // Moved past the end: a gap where it was, and nothing there.
      entry.data_offsets = [last.data_offsets[1] + 64, last.data_offsets[1] * 2 - last.data_offsets[0] + 64];
    }),
    file: WEIGHTS,
    load: /has a bad header: bytes \d+ to \d+ of the data belong to no tensor/,
    headers: /has a bad header: bytes \d+ to \d+ of the data belong to no tensor/,
  },
  {
    name: 'two tensors sharing bytes',
    break: editHeader((header) => {
      const tensors = tensorsOf(header);
      const [first, twin] = (() => {
        for (const [i, a] of tensors.entries())
          for (const b of tensors.slice(i + 1))
            if (a.data_offsets[1] - a.data_offsets[0] === b.data_offsets[1] - b.data_offsets[0])
              return [a, b];
        throw new Error('no two tensors of one size');
      })();
      (header[twin.name] as { data_offsets: number[] }).data_offsets = [...first.data_offsets];
    }),
    file: WEIGHTS,
    load: /has a bad header: tensor \S+ \[\d+, \d+\) overlaps tensor/,
    headers: /overlaps tensor/,
  },
  {
    name: 'a tensor whose dtype disagrees with its byte count',
    break: editHeader((header) => {
      (header[tensorsOf(header)[0]!.name] as { dtype: string }).dtype = 'F16';
    }),
    file: WEIGHTS,
    load: /has a bad header: tensor \S+ \(F16 \[[\d, ]+\]\) needs \d+ bytes, data_offsets span \d+/,
    headers: /needs \d+ bytes, data_offsets span/,
  },
  {
    name: 'a dtype safetensors does not define',
    break: editHeader((header) => {
      (header[tensorsOf(header)[0]!.name] as { dtype: string }).dtype = 'Q4_K';
    }),
    file: WEIGHTS,
    load: /has dtype "Q4_K", which safetensors does not define/,
    headers: /which safetensors does not define/,
  },
  {
    name: 'a shape that disagrees with its byte count',
    break: editHeader((header) => {
      (header[tensorsOf(header)[0]!.name] as { shape: number[] }).shape.push(2);
    }),
    file: WEIGHTS,
    load: /needs \d+ bytes, data_offsets span \d+/,
    headers: /needs \d+ bytes, data_offsets span \d+/,
  },
  {
    name: 'a shape with a negative dimension',
    break: editHeader((header) => {
      const entry = header[tensorsOf(header)[0]!.name] as { shape: number[] };
      entry.shape[0] = -entry.shape[0]!;
    }),
    file: WEIGHTS,
    load: /has a bad header: tensor \S+ has shape \[-/,
    headers: /has shape \[-/,
  },
  {
    name: 'a transposed weight (right bytes, wrong shape for config.json)',
    break: editHeader((header) => {
      const matrix = tensorsOf(header).find((t) => t.shape.length === 2 && t.shape[0] !== t.shape[1])!;
      (header[matrix.name] as { shape: number[] }).shape.reverse();
    }),
    file: WEIGHTS,
    load: /: tensor \S+ has shape \[\d+, \d+\], expected \[\d+, \d+\]/,
    headers: null,
  },
  {
    name: 'an integer dtype where a float weight belongs',
    break: editHeader((header) => {
      (header[tensorsOf(header)[0]!.name] as { dtype: string }).dtype = 'I32';
    }),
    file: WEIGHTS,
    load: /: tensor \S+: cannot decode I32 values; supported: F32, F16, BF16/,
    headers: null,
  },
  {
    name: 'bytes after the last tensor',
    break: async (dir) => writeFile(path.join(dir, WEIGHTS), Buffer.alloc(7), { flag: 'a' }),
    file: WEIGHTS,
    load: /has 7 bytes after the last tensor's data/,
    headers: /the header accounts for \d+ bytes, the file has \d+/,
  },
  {
    name: 'a missing weights file',
    break: (dir) => rm(path.join(dir, WEIGHTS)),
    file: WEIGHTS,
    load: /: ENOENT/,
    headers: /: ENOENT/,
  },
  {
    name: 'an index that points outside the directory',
    break: (dir) =>
      writeFile(
        path.join(dir, INDEX_FILE),
        JSON.stringify({ weight_map: { 'lm_head.weight': '../../etc/passwd' } }),
      ),
    file: INDEX_FILE,
    load: /maps lm_head\.weight to "\.\.\/\.\.\/etc\/passwd", which is not a \.safetensors file in/,
    headers: /which is not a \.safetensors file in/,
  },
  {
    name: 'an index whose weight_map holds a number',
    break: (dir) => writeFile(path.join(dir, INDEX_FILE), JSON.stringify({ weight_map: { x: 7 } })),
    file: INDEX_FILE,
    load: /maps x to 7, which is not a \.safetensors file/,
    headers: /maps x to 7/,
  },
  {
    name: 'an index that is not JSON',
    break: (dir) => writeFile(path.join(dir, INDEX_FILE), '{"weight_map": '),
    file: INDEX_FILE,
    load: /is not a valid index/,
    headers: /is not a valid index/,
  },
  {
    name: 'an index whose weight_map is an array',
    break: (dir) => writeFile(path.join(dir, INDEX_FILE), '{"weight_map": ["model.safetensors"]}'),
    file: INDEX_FILE,
    load: /is not a valid index: no weight_map object/,
    headers: /no weight_map object/,
  },
  ...(
    [
      ['not JSON', () => '{"model_type": "llama",', /config\.json is not JSON/],
      ['an array', () => [], /config\.json: unsupported model_type undefined/],
      [
        'an unknown model_type',
        (c: Record<string, unknown>) => ({ ...c, model_type: 'bert' }),
        /unsupported model_type "bert"/,
      ],
      [
        'model_type a number',
        (c: Record<string, unknown>) => ({ ...c, model_type: 7 }),
        /unsupported model_type 7/,
      ],
      [
        'hidden_size a string',
        (c: Record<string, unknown>) => ({ ...c, hidden_size: '32' }),
        /hidden_size: Invalid input: expected number, received string/,
      ],
      [
        'vocab_size a fraction',
        (c: Record<string, unknown>) => ({ ...c, vocab_size: 64.5 }),
        /vocab_size: .*int/i,
      ],
      [
        'num_hidden_layers negative',
        (c: Record<string, unknown>) => ({ ...c, num_hidden_layers: -2 }),
        /num_hidden_layers/,
      ],
      ['rms_norm_eps null', (c: Record<string, unknown>) => ({ ...c, rms_norm_eps: null }), /rms_norm_eps/],
      [
        'tie_word_embeddings "yes"',
        (c: Record<string, unknown>) => ({ ...c, tie_word_embeddings: 'yes' }),
        /tie_word_embeddings/,
      ],
      [
        'rope_scaling of an unknown type',
        (c: Record<string, unknown>) => ({ ...c, rope_scaling: { type: 'yarn' } }),
        /rope_scaling type "yarn" is not supported/,
      ],
      [
        'heads that do not divide the width',
        (c: Record<string, unknown>) => ({ ...c, num_attention_heads: 5 }),
        /not a multiple of/,
      ],
      [
        'a width that disagrees with the weights',
        (c: Record<string, unknown>) => ({ ...c, hidden_size: 64, head_dim: 8 }),
        /has shape \[\d+, \d+\], expected \[\d+, \d+\]/,
      ],
    ] as const
  ).map(
    ([label, edit, message]): BadDir => ({
      name: `a config.json that is ${label}`,
      break: editConfig(edit as (c: Record<string, unknown>) => unknown),
      file: label === 'a width that disagrees with the weights' ? WEIGHTS : 'config.json',
      load: message,
      headers: null,
    }),
  ),
];

describe('malformed model directories', () => {
  let root: string;
  let good: string;
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;

  beforeAll(async () => {
    await useBackend('cpu');
    root = await mkdtemp(path.join(tmpdir(), 'parley-bad-models-'));
    good = path.join(root, 'good');
    await writeTinyCheckpoint(good, { architecture: 'llama' });
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
  });
  afterAll(async () => {
    await mongo?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('loads and registers the unbroken directory (the control for every row below)', async () => {
    const control = path.join(root, 'control');
    await cp(good, control, { recursive: true });
    expect((await loadModel(control)).checkpoint.names().length).toBeGreaterThan(0);
    expect(await inspectCheckpoint(control)).toBeGreaterThan(0);
  });

  it.each(BAD_DIRS.map((row) => [row.name, row] as const))(
    '%s: named on load, refused before registering',
    async (label, row) => {
      const dir = path.join(root, label.replace(/\W+/g, '-'));
      await cp(good, dir, { recursive: true });
      await row.break(dir);
      const named = (message: RegExp) =>
        new RegExp(
          `${path.join(dir, row.file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*${message.source}`,
          's',
        );

      // Loading (serving, evaluation, training, `parley model info`) names the file and the problem.
      const loaded = await loadModel(dir).then(
        () => null,
        (error: Error) => error,
      );
      expect(loaded?.message).toMatch(
        row.file === WEIGHTS || row.file === INDEX_FILE ? named(row.load) : row.load,
      );
      if (row.file === 'config.json') expect(loaded?.message).toContain(path.join(dir, 'config.json'));

      // Checking a download from headers alone (`parley model pull`) says the same without reading the weights.
      if (row.headers) {
        await expect(inspectCheckpoint(dir)).rejects.toThrow(row.headers);
        if (row.file === WEIGHTS)
          await expect(checkWeights(dir, [WEIGHTS])).rejects.toThrow(named(row.headers));
      }

      // Registering it as a version refuses and stores nothing. Registration reads headers, not
      // weights: a file whose headers are sound but whose shapes or dtypes do not fit config.json
      // is refused when it loads (serving keeps the previous version: serving.test.ts).
      if (!row.headers && row.file !== 'config.json') return;
      const before = await snapshotState(models);
      await expect(registerStarterVersion(models, dir)).rejects.toThrow(row.headers ?? row.load);
      expect(stateChanges(before, await snapshotState(models))).toEqual([]);
      expect(await models.ModelVersion.countDocuments({})).toBe(0);
    },
  );
});
