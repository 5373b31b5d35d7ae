import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TrainExample } from './trainer.js';

/** A dataset split's examples, as `parley dataset build` wrote them. */
export async function readExamples(
  datasetDir: string,
  split: 'train' | 'validation',
): Promise<TrainExample[]> {
  const examples: TrainExample[] = [];
  const lines = createInterface({ input: createReadStream(path.join(datasetDir, `${split}.jsonl`)) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const { ids, targets, unit, conversationId } = JSON.parse(line) as {
      ids: number[];
      targets: [number, number][];
      unit?: string;
      conversationId?: string;
    };
    const example: TrainExample = { ids, targets: targets.map(([start, end]) => ({ start, end })) };
    const owner = unit ?? conversationId; // datasets built before units were written: per conversation
    if (owner !== undefined) example.unit = owner;
    examples.push(example);
  }
  return examples;
}
