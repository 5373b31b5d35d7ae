/**
 * A model directory's tokenizer (tokenizer.json, tokenizer_config.json) through transformers.js,
 * local files only: nothing is ever fetched. Chats render with the tokenizer's own chat_template,
 * or DEFAULT_CHAT_TEMPLATE when it has none.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/**
 * For tokenizers without a chat template (gpt2, base models): plain "Role: text" lines, so any
 * vocabulary can encode it; assistant turns end with the eos token so a fine-tuned model learns to stop.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

export class ChatTokenizer {
  private constructor(private readonly inner: PreTrainedTokenizer) {}

  /** Loads the tokenizer files of `dir`; never downloads. */
  static async load(dir: string): Promise<ChatTokenizer> {
    const absolute = path.resolve(dir);
    const file = path.join(absolute, 'tokenizer.json');
    if (!(await stat(file).catch(() => undefined))?.isFile()) {
      throw new TokenizerError(`${absolute} has no tokenizer.json`);
    }
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${path.dirname(absolute)}${path.sep}`;
    try {
      return new ChatTokenizer(
        await AutoTokenizer.from_pretrained(path.basename(absolute), { local_files_only: true }),
      );
    } catch (error) {
      throw new TokenizerError(`cannot load the tokenizer in ${absolute}: ${(error as Error).message}`);
    }
  }

  /** Whether tokenizer_config.json carries a chat_template (else DEFAULT_CHAT_TEMPLATE is used). */
  get hasChatTemplate(): boolean {
    return this.inner.chat_template !== null && this.inner.chat_template !== undefined;
  }

  get eosTokenId(): number | undefined {
    return this.inner.eos_token_id ?? undefined;
  }

  get vocabSize(): number {
    return this.inner.get_vocab().size;
  }

  encode(text: string, { addSpecialTokens = true } = {}): number[] {
    return this.inner.encode(text, { add_special_tokens: addSpecialTokens });
  }

  decode(ids: number[], { skipSpecialTokens = false } = {}): string {
    return this.inner.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  /** The chat as the model's prompt text; `addGenerationPrompt` opens an assistant turn. */
  renderChat(messages: ChatMessage[], { addGenerationPrompt = false } = {}): string {
    if (messages.length === 0) throw new TokenizerError('a chat needs at least one message');
    return this.inner.apply_chat_template(messages, {
      tokenize: false,
      add_generation_prompt: addGenerationPrompt,
      chat_template: this.hasChatTemplate ? null : DEFAULT_CHAT_TEMPLATE,
    });
  }

  /** Token ids of the rendered chat (the template already holds any special tokens). */
  encodeChat(messages: ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): number[] {
    return this.encode(this.renderChat(messages, options), { addSpecialTokens: false });
  }
}
