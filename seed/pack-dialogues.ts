/**
 * Maintainer tool: packs ../shared/data (the team's copy of the public dialogues) into
 * seed/data/*.jsonl.br, which is what Parley ships and seeds from. Run: npx tsx seed/pack-dialogues.ts [DIR]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { DIALOGUE_FILES } from './dialogues.js';

const from = path.resolve(process.argv[2] ?? '../shared/data');
const to = path.join(import.meta.dirname, 'data');

for (const name of DIALOGUE_FILES) {
  const text = await readFile(path.join(from, name.replace(/\.br$/, '')));
  const packed = brotliCompressSync(text, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 },
  });
  await writeFile(path.join(to, name), packed);
  console.log(`${name}: ${text.length} -> ${packed.length} bytes`);
}
