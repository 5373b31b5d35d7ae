import type { DetectedEntity } from '../types.js';
import { contextNumbers, cueScore } from './numbers.js';
import type { Recognizer } from './recognizer.js';

export const pinRecognizer: Recognizer = {
  name: 'pin',
  entities: ['PIN'],
  analyze(input) {
    const found: DetectedEntity[] = [];
    for (const n of contextNumbers(input)) {
      if (n.digits < 4 || n.digits > 8) continue;
      let score = 0;
      if (n.pinBefore !== Number.POSITIVE_INFINITY) score = cueScore(n.pinBefore);
      if (n.asked === 'pin') score = Math.max(score, 0.75);
      if (score > 0) found.push({ type: 'PIN', start: n.start, end: n.end, score, recognizer: 'pin' });
    }
    return found;
  },
};
