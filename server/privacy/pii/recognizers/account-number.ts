import type { DetectedEntity } from '../types.js';
import { contextNumbers, cueScore } from './numbers.js';
import type { Recognizer } from './recognizer.js';

export const accountNumberRecognizer: Recognizer = {
  name: 'account-number',
  entities: ['ACCOUNT_NUMBER'],
  analyze(input) {
    const found: DetectedEntity[] = [];
    for (const n of contextNumbers(input)) {
      if (n.digits < 6 || n.digits > 20) continue;
      let score = 0;
      if (n.accountBefore !== Number.POSITIVE_INFINITY) score = cueScore(n.accountBefore);
      else if (n.accountAfter < 25) score = 0.7;
      if (n.asked === 'account') score = Math.max(score, 0.75);
      if (score > 0)
        found.push({
          type: 'ACCOUNT_NUMBER',
          start: n.start,
          end: n.end,
          score,
          recognizer: 'account-number',
        });
    }
    return found;
  },
};
