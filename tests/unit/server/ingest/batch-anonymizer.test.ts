import { describe, expect, it } from 'vitest';
import { createJobRunner } from '../../../../server/ingest/batch-anonymizer.js';
import { createAnonymizer } from '../../../../server/privacy/pii/index.js';

const anonymizer = createAnonymizer({ hashKey: Buffer.alloc(32, 3) });
const job = (key: string, ...texts: string[]) => ({
  key,
  turns: texts.map((text) => ({ text, role: 'customer' as const })),
});

describe('batch anonymization jobs', () => {
  it('continues a conversation’s pseudonyms across batches of one run', () => {
    const run = createJobRunner(anonymizer);
    run([job('c1', 'My name is Tyler Jones')], 'run-1');
    const [later] = run([job('c1', 'My friend Ana Lima says hi, and Tyler agrees')], 'run-1');
    expect(later?.texts).toEqual(['My friend <PERSON_2> says hi, and <PERSON_1> agrees']);
  });

  it('starts afresh in another run, where the stored state is the truth', () => {
    const run = createJobRunner(anonymizer);
    const [first] = run([job('c1', 'My name is Tyler Jones')], 'run-1');
    expect(run([job('c1', 'My name is Ana Lima')], 'run-2')[0]?.texts).toEqual(['My name is <PERSON_1>']);
    const [resumed] = run([{ ...job('c1', 'I am Ana Lima'), state: first!.state }], 'run-3');
    expect(resumed?.texts).toEqual(['I am <PERSON_2>']);
  });

  it('anonymizes metadata with the same pseudonyms as the turns and returns results in job order', () => {
    const run = createJobRunner(anonymizer);
    const results = run(
      [
        { ...job('a', 'My name is Tyler Jones'), meta: { apiCalls: [{ args: { name: 'Tyler Jones' } }] } },
        job('b', 'hello'),
      ],
      'run-1',
    );
    expect(results.map((r) => r.key)).toEqual(['a', 'b']);
    expect(JSON.stringify(results[0]?.meta)).toContain('<PERSON_1>');
    expect(results[0]?.report.entities.PERSON).toBe(2);
  });
});

describe('batch boundaries', () => {
  it('keeps the previous turn as context when a conversation continues in the next batch', () => {
    const asked = { key: 'c1', turns: [{ text: 'Could I get your name, please?', role: 'agent' as const }] };
    const answered = { key: 'c1', turns: [{ text: 'Xiomara Okonkwo', role: 'customer' as const }] };
    const split = createJobRunner(anonymizer);
    split([asked], 'run-1');
    const [later] = split([answered], 'run-1');
    const [whole] = createJobRunner(anonymizer)(
      [{ key: 'c1', turns: [...asked.turns, ...answered.turns] }],
      'run-1',
    );
    expect(later?.texts).toEqual([whole?.texts[1]]);
    expect(later?.texts).toEqual(['<PERSON_1>']);
  });

  it('reports only what each batch replaced', () => {
    const run = createJobRunner(anonymizer);
    expect(run([job('c1', 'My name is Tyler Jones')], 'run-1')[0]?.report.entities).toEqual({ PERSON: 1 });
    expect(run([job('c1', 'thanks')], 'run-1')[0]?.report.entities).toEqual({});
  });
});
