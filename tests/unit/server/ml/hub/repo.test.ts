import { describe, expect, it } from 'vitest';
import { modelDirName, parseRepoId, selectFiles } from '../../../../../server/ml/hub/repo.js';

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
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
  });

  it('refuses a repo with only PyTorch weights and says which it has', () => {
    expect(() => selectFiles('o/n', ['config.json', 'pytorch_model.bin', 'tokenizer.json'])).toThrow(
      /o\/n has no safetensors weights \(it has pytorch_model\.bin\)/,
    );
  });

  it('refuses safetensors found only in a subfolder', () => {
    expect(() => selectFiles('o/n', ['config.json', 'original/model.safetensors'])).toThrow(
      /no safetensors weights/,
    );
  });

  it('refuses a repo without config.json', () => {
    expect(() => selectFiles('o/n', ['model.safetensors'])).toThrow(/no config\.json/);
  });
});
