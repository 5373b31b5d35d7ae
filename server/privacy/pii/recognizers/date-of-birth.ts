import { distanceBefore, matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

const MONTHS =
  'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
const DATES = [
  // 06/08/1985, 6-8-85, 06.08.1985 (day-first or month-first; both are checked for plausibility)
  /(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)/g,
  // 1985-08-06
  /(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)/g,
  // 6 August 1985, 6th of Aug, 1985, August 6th, 1985
  new RegExp(
    `\\b(?:\\d{1,2}(?:st|nd|rd|th)?\\s+(?:of\\s+)?(?:${MONTHS})\\.?,?\\s+\\d{4}|(?:${MONTHS})\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4})\\b`,
    'gi',
  ),
];
const CUE = /\b(?:born|birth|birthday|birthdate|b-?day|dob|d\.o\.b)\b/gi;

function plausible(match: RegExpMatchArray, index: number): boolean {
  if (index === 2) return true;
  const nums = match
    .slice(1)
    .filter((g) => /^\d+$/.test(g ?? ''))
    .map(Number);
  const [a, b, c] = index === 0 ? [nums[0]!, nums[1]!, nums[2]!] : [nums[2]!, nums[1]!, nums[0]!];
  // Day and month in either order; a month above 12 is only possible as the day.
  return (
    a >= 1 && b >= 1 && a <= 31 && b <= 31 && (a <= 12 || b <= 12) && (c < 100 || (c >= 1900 && c <= 2100))
  );
}

export const dateOfBirthRecognizer: Recognizer = {
  name: 'date-of-birth',
  entities: ['DATE_OF_BIRTH'],
  analyze({ text, asked }) {
    if (!/\d/.test(text)) return [];
    const askedDob = asked.includes('dob');
    const found: DetectedEntity[] = [];
    DATES.forEach((pattern, index) => {
      for (const match of matchesOf(pattern, text)) {
        if (!plausible(match, index)) continue;
        const near = distanceBefore(text, match.index, CUE, 50) < 50;
        if (!near && !askedDob) continue;
        found.push({
          type: 'DATE_OF_BIRTH',
          start: match.index,
          end: match.index + match[0].length,
          score: near ? 0.85 : 0.8,
          recognizer: 'date-of-birth',
        });
      }
    });
    return found;
  },
};
