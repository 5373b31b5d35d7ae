import { describe, expect, it } from 'vitest';
import { modelDirName, parseRepoId, selectFiles, shardsOf } from '../../../../../server/ml/hub/repo.js';

describe('hub repo ids', () => {
  it.each([
    ['Qwen/Qwen2.5-0.5B', 'main', 'Qwen--Qwen2.5-0.5B'],
    ['HuggingFaceTB/SmolLM2-135M', 'v1.0', 'HuggingFaceTB--SmolLM2-135M@v1.0'],
    ['owner/name', 'refs/pr/1', 'owner--name@refs_pr_1'],
  ])('installs %s@%s as models/%s', (repo, revision, dir) => {
    expect(modelDirName(repo, revision)).toBe(dir);
  });

  it.each([['gpt2'], ['a/b/c'], ['../etc'], ['owner/..'], ['owner/'], ['/name'], ['own er/name']])(
    'rejects "%s" as a repo id',
    (repo) => {
      expect(() => parseRepoId(repo)).toThrow(/not a Hugging Face model id/);
    },
  );
});

describe('selectFiles', () => {
  it('keeps configs, tokenizer and top-level safetensors, config.json first and weights last', () => {
    const files = [
      'README.md',
      '.gitattributes',
      'model-00002-of-00002.safetensors',
      'pytorch_model.bin',
      'tf_model.h5',
      'onnx/model.onnx',
      'original/consolidated.safetensors',
      'model.gguf',
      'tokenizer.json',
      'model-00001-of-00002.safetensors',
      'model.safetensors.index.json',
      'generation_config.json',
      'special_tokens_map.json',
      'tokenizer_config.json',
      'vocab.json',
      'config.json',
    ];
    expect(selectFiles('o/n', files)).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors.index.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
  });

  it('takes model.safetensors without an index, and not another layout of the same weights', () => {
    expect(selectFiles('o/n', ['consolidated.safetensors', 'model.safetensors', 'config.json'])).toEqual([
      'config.json',
      'model.safetensors',
    ]);
  });

  it('takes the shards an index names, each once, and refuses one the repo lacks', () => {
    const index = JSON.stringify({
      weight_map: { a: 'm-2.safetensors', b: 'm-1.safetensors', c: 'm-2.safetensors' },
    });
    expect(
      shardsOf('o/n', index, ['m-1.safetensors', 'm-2.safetensors', 'consolidated.safetensors']),
    ).toEqual(['m-1.safetensors', 'm-2.safetensors']);
    expect(() => shardsOf('o/n', index, ['m-1.safetensors'])).toThrow(
      'o/n: model.safetensors.index.json names shards the repo lacks: m-2.safetensors',
    );
    expect(() => shardsOf('o/n', JSON.stringify({ weight_map: { a: '../x.safetensors' } }), [])).toThrow(
      /names unexpected shards: \.\.\/x\.safetensors/,
    );
    expect(() => shardsOf('o/n', '{', [])).toThrow(/is not JSON/);
  });

  it('refuses a repo with only PyTorch weights and says which it has', () => {
    expect(() => selectFiles('o/n', ['config.json', 'pytorch_model.bin', 'tokenizer.json'])).toThrow(
      'o/n has no safetensors weights in Hugging Face layout (model.safetensors or model.safetensors.index.json) (it has pytorch_model.bin)',
    );
  });

  it('refuses safetensors found only in a subfolder or in another layout', () => {
    expect(() => selectFiles('o/n', ['config.json', 'original/model.safetensors'])).toThrow(
      /no safetensors weights in Hugging Face layout/,
    );
    expect(() => selectFiles('o/n', ['config.json', 'consolidated.safetensors'])).toThrow(
      /\(it has consolidated\.safetensors\)/,
    );
  });

  it('refuses a repo without config.json', () => {
    expect(() => selectFiles('o/n', ['model.safetensors'])).toThrow(/no config\.json/);
  });
});
