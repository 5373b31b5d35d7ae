/**
 * The starter model's tokenizer: a byte-level BPE (GPT-2 style, so any text encodes) trained with
 * Hugging Face `tokenizers` on the shipped dialogues, cut to a small vocabulary, with ChatML
 * special tokens and chat template (as SmolLM2 and Qwen2 use).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** GPT-2's byte-to-unicode table: every byte a printable character, so BPE works on bytes. */
export function byteAlphabet(): string[] {
  const printable = [
    ...Array.from({ length: 94 }, (_, i) => 33 + i), // '!'..'~'
    ...Array.from({ length: 12 }, (_, i) => 161 + i), // '¡'..'¬'
    ...Array.from({ length: 82 }, (_, i) => 174 + i), // '®'..'ÿ'
  ];
  const table: string[] = [];
  let extra = 0;
  for (let byte = 0; byte < 256; byte++) {
    table.push(String.fromCodePoint(printable.includes(byte) ? byte : 256 + extra++));
  }
  return table;
}

interface TrainedBpe {
  model: { vocab: Record<string, number>; merges: [string, string][] | string[] };
}

/**
 * Keeps the first merges of a trained BPE so that specials + 256 bytes + merges = `vocabSize`.
 * Merges are learned in order and each builds on earlier ones, so any prefix is a valid BPE.
 */
export function cutBpe(
  trained: TrainedBpe,
  vocabSize: number,
): { vocab: Record<string, number>; merges: [string, string][] } {
  const merges = trained.model.merges.map((m) =>
    typeof m === 'string' ? (m.split(' ') as [string, string]) : m,
  );
  const vocab: Record<string, number> = {};
  const add = (token: string) => {
    if (!Object.hasOwn(vocab, token)) vocab[token] = Object.keys(vocab).length;
  };
  for (const token of SPECIAL_TOKENS) add(token);
  for (const char of byteAlphabet()) add(char);
  const kept: [string, string][] = [];
  for (const [a, b] of merges) {
    if (Object.keys(vocab).length >= vocabSize) break;
    if (!Object.hasOwn(vocab, a) || !Object.hasOwn(vocab, b)) continue; // builds on a merge we cut
    kept.push([a, b]);
    add(a + b);
  }
  return { vocab, merges: kept };
}

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

function tokenizerJson(bpe: { vocab: Record<string, number>; merges: [string, string][] }) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: bpe.vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: BYTE_LEVEL,
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: bpe.vocab,
      merges: bpe.merges,
    },
  };
}

export const tokenizerConfig = (contextLength: number) => ({
  tokenizer_class: 'PreTrainedTokenizerFast',
  bos_token: null,
  eos_token: '<|im_end|>',
  pad_token: '<|endoftext|>',
  unk_token: null,
  model_max_length: contextLength,
  add_prefix_space: false,
  clean_up_tokenization_spaces: false,
  chat_template: CHATML_TEMPLATE,
});

/** Trains on `texts` and writes tokenizer.json and tokenizer_config.json into `dir`. */
export async function buildTokenizer(
  texts: Iterable<string>,
  dir: string,
  options: { vocabSize: number; contextLength: number },
): Promise<{ vocabSize: number }> {
  // A dev dependency: only building the starter model needs it, never running Parley.
  const { Tokenizer } = await import('tokenizers').catch((error: Error) => {
    throw new Error(
      `building a tokenizer needs the dev dependency \`tokenizers\` (npm install --include=dev): ${error.message}`,
    );
  });
  const work = await mkdtemp(path.join(tmpdir(), 'parley-bpe-'));
  try {
    const corpus = path.join(work, 'corpus.txt');
    await writeFile(corpus, [...texts].join('\n'));
    const empty = tokenizerJson({ vocab: {}, merges: [] });
    const tokenizer = Tokenizer.fromString(
      JSON.stringify({ ...empty, added_tokens: [], post_processor: null }),
    );
    tokenizer.train([corpus]); // the default BPE trainer: every merge down to frequency 2
    const trainedFile = path.join(work, 'trained.json');
    tokenizer.save(trainedFile);
    const bpe = cutBpe(JSON.parse(await readFile(trainedFile, 'utf-8')) as TrainedBpe, options.vocabSize);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(bpe)));
    await writeFile(
      path.join(dir, 'tokenizer_config.json'),
      `${JSON.stringify(tokenizerConfig(options.contextLength), null, 2)}\n`,
    );
    return { vocabSize: Object.keys(bpe.vocab).length };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
