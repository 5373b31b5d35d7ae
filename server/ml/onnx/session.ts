/**
 * An exported model run by ONNX Runtime (onnxruntime-node, the runtime transformers.js uses in
 * Node): one forward step at a time with the key/value cache held as ORT tensors, so that Parley's
 * own generation loop (sampling, seeds, confidence, stop sequences, abort) runs on it unchanged.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type ModelConfig, readModelConfig } from '../config.js';
import type { LogitsSequence, LogitsSource } from '../generate.js';
import { ONNX_MODEL_FILE, ONNX_SUBDIR } from './export.js';

export interface OnnxSessionOptions {
  /** ORT intra-op threads; default ORT's own choice (one per core). */
  intraOpThreads?: number;
}

/** Keys and values of every layer for the positions seen so far, as the model's present.* outputs. */
export class OnnxKvCache {
  /** Positions held. */
  length = 0;
  tensors: Record<string, ort.Tensor>;

  constructor(config: ModelConfig) {
    this.tensors = {};
    for (let i = 0; i < config.numLayers; i++) {
      for (const kind of ['key', 'value']) {
        this.tensors[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
          1,
          config.numKvHeads,
          0,
          config.headDim,
        ]);
      }
    }
  }

  dispose(): void {
    for (const t of Object.values(this.tensors)) t.dispose();
    this.tensors = {};
    this.length = 0;
  }
}

export class OnnxDecoder implements LogitsSource {
  private constructor(
    readonly config: ModelConfig,
    private readonly session: ort.InferenceSession,
  ) {}

  /** Loads `dir`/onnx/model.onnx (see exportOnnx) with the config.json beside it. */
  static async load(dir: string, options: OnnxSessionOptions = {}): Promise<OnnxDecoder> {
    const config = await readModelConfig(dir);
    const session = await ort.InferenceSession.create(path.join(dir, ONNX_SUBDIR, ONNX_MODEL_FILE), {
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    });
    return new OnnxDecoder(config, session);
  }

  createCache(): OnnxKvCache {
    return new OnnxKvCache(this.config);
  }

  /** A sequence for generate(): each step returns the last row of logits only. */
  open(): LogitsSequence {
    const cache = this.createCache();
    return {
      get length() {
        return cache.length;
      },
      step: (ids) => this.forward(ids, cache, { lastOnly: true }),
      dispose: () => cache.dispose(),
    };
  }

  /**
   * Logits for `ids` placed after what `cache` holds, appending their keys and values to it:
   * [T, vocab] row-major, or only the last row ([1, vocab]) with `lastOnly`.
   */
  async forward(ids: number[], cache: OnnxKvCache, { lastOnly = false } = {}): Promise<Float32Array> {
    const t = ids.length;
    const total = cache.length + t;
    if (t === 0) throw new Error('no token ids');
    if (total > this.config.contextLength) {
      throw new Error(`${total} positions exceed the context length ${this.config.contextLength}`);
    }
    const feeds: Record<string, ort.Tensor> = {
      ...cache.tensors,
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, t]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: t }, (_, i) => BigInt(cache.length + i)),
        [1, t],
      ),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(lastOnly ? 1n : 0n), []),
    };
    const out = await this.session.run(feeds);
    const next: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(cache.tensors)) {
      next[name] = out[name.replace('past_key_values.', 'present.')]!;
    }
    for (const tensor of Object.values(cache.tensors)) tensor.dispose();
    cache.tensors = next;
    cache.length = total;
    return out.logits!.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
