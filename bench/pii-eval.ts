/**
 * Precision, recall and F1 of the PII analyzer on the hand-labelled STAR dev turns
 * (tests/fixtures/pii/star-dev-gold.jsonl; the matching rule is in server/privacy/pii/evaluate.ts),
 * then speed over every turn of the STAR dev set.
 *
 *   npx tsx bench/pii-eval.ts [--errors] [--report FILE]
 *
 * --report FILE also writes the figures as a BenchReport (bench/report.ts) for `npm run bench`.
 */
import path from 'node:path';
import { DIALOGUE_DIR, type Dialogue, readDialogues } from '../seed/dialogues.js';
import { evaluateGold, readGold } from '../server/privacy/pii/gold.js';
import { createAnonymizer } from '../server/privacy/pii/index.js';
import { type BenchRow, reportFlag, reproduceCommand, writeReport } from './report.js';

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

const overall = result.overall;
const goldCount = overall.truePositives + overall.falseNegatives;
const score = (name: string, value: number): BenchRow => ({
  name: `${name}, all types`,
  figure: { label: name, value, unit: '' },
  note: `${goldCount} labelled entities in ${result.turns} turns; ${overall.truePositives} found, ${overall.falsePositives} false, ${overall.falseNegatives} missed`,
});
await writeReport(reportFlag(), {
  bench: 'bench/pii-eval.ts',
  title: 'PII detection: quality on labelled STAR turns, and speed',
  command: reproduceCommand('bench/pii-eval.ts'),
  setup: `hand-labelled STAR dev turns (tests/fixtures/pii/star-dev-gold.jsonl) for quality; every STAR dev turn (${turns}, ${(chars / turns).toFixed(0)} chars on average), fresh anonymizers, best of 3, for speed`,
  rows: [
    score('precision', overall.precision),
    score('recall', overall.recall),
    score('F1', overall.f1),
    {
      name: 'anonymizer speed',
      figure: { label: 'STAR dev turns', value: (turns / ms) * 1000, unit: 'turns/s' },
      note: `${((ms / turns) * 1000).toFixed(1)} µs/turn; no same-run reference (the gold labels are the reference for quality)`,
    },
  ],
  details: [
    '| type | gold | found | true positives | precision | recall | F1 |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(result.byType).map(
      ([type, t]) =>
        `| ${type} | ${t.truePositives + t.falseNegatives} | ${t.truePositives + t.falsePositives} | ${t.truePositives} | ${fmt(t.precision)} | ${fmt(t.recall)} | ${fmt(t.f1)} |`,
    ),
  ],
});
