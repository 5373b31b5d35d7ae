/**
 * Precision, recall and F1 of the PII analyzer on the hand-labelled STAR dev turns
 * (tests/fixtures/pii/star-dev-gold.jsonl; the matching rule is in server/privacy/pii/evaluate.ts),
 * then speed over every turn of the STAR dev set.
 *
 *   npx tsx bench/pii-eval.ts [--errors]
 */
import path from 'node:path';
import { DIALOGUE_DIR, type Dialogue, readDialogues } from '../seed/dialogues.js';
import { evaluateGold, readGold } from '../server/privacy/pii/gold.js';
import { createAnonymizer } from '../server/privacy/pii/index.js';

const GOLD = path.join(import.meta.dirname, '../tests/fixtures/pii/star-dev-gold.jsonl');
const fmt = (x: number) => x.toFixed(3);

const anonymizer = createAnonymizer({ hashKey: 'bench-key' });
const result = evaluateGold(anonymizer, await readGold(GOLD));
console.log(`gold set: ${result.turns} turns\n`);
console.log('type             gold  found  TP   precision  recall  F1');
const row = (name: string, s: (typeof result)['overall']) =>
  console.log(
    `${name.padEnd(16)} ${String(s.truePositives + s.falseNegatives).padStart(4)}  ${String(s.truePositives + s.falsePositives).padStart(5)}  ${String(s.truePositives).padStart(3)}  ${fmt(s.precision).padStart(9)}  ${fmt(s.recall).padStart(6)}  ${fmt(s.f1)}`,
  );
for (const [type, s] of Object.entries(result.byType)) row(type, s);
row('overall', result.overall);
if (process.argv.includes('--errors'))
  for (const e of result.errors)
    console.log(`${e.kind} ${e.type.padEnd(14)} ${e.conversationId}#${e.turn}: ${e.value}`);

// Speed: every turn of the STAR dev set, each conversation with its own anonymizer, as ingestion does.
const dialogues: Dialogue[] = [];
for await (const d of readDialogues(path.join(DIALOGUE_DIR, 'star.dev.jsonl.br'))) dialogues.push(d);
let turns = 0;
let chars = 0;
const pass = (subject: typeof anonymizer) => {
  const started = performance.now();
  for (const d of dialogues) {
    const conversation = subject.conversation();
    for (const t of d.turns) {
      conversation.anonymizeText(t.text, { role: t.role });
      turns += 1;
      chars += t.text.length;
    }
  }
  return performance.now() - started;
};
pass(anonymizer); // warm-up: model load and JIT
// Fresh anonymizers, so that the result cache starts empty as in a real ingestion run; best of 3
// because a shared machine adds noise.
let ms = Number.POSITIVE_INFINITY;
for (let run = 0; run < 3; run += 1) {
  turns = 0;
  chars = 0;
  ms = Math.min(ms, pass(createAnonymizer({ hashKey: 'bench-key' })));
}
console.log(
  `\nspeed: ${turns} STAR dev turns (${(chars / turns).toFixed(0)} chars on average) in ${ms.toFixed(0)} ms = ${Math.round((turns / ms) * 1000)} turns/s, ${((ms / turns) * 1000).toFixed(1)} µs/turn`,
);
