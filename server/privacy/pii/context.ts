/**
 * What the previous turn asked for ("Could I get your name, please?" -> 'name'), so that a bare
 * reply ("Alexis Smith", "0314") can be typed. Ordered by where the question mentions each thing:
 * "your account number and PIN" answered by two numbers gives the first to the account.
 */
export type Ask =
  | 'name'
  | 'surname'
  | 'pet'
  | 'account'
  | 'pin'
  | 'dob'
  | 'password'
  | 'phone'
  | 'email'
  | 'address';

const ASK_PATTERNS: readonly (readonly [Ask, RegExp])[] = [
  [
    'name',
    /\b(?:your|his|her|their|patient'?s|host'?s|guest'?s|doctor'?s|driver'?s)\s+(?:full\s+|first\s+|given\s+)?name\b|\bthe\s+(?:full\s+)?name\s+of\s+the\s+(?:host|guest|patient|person|renter|customer|account\s*holder|card\s*holder|doctor|driver|caller|owner|tenant|passenger)\b|(?<!(?:street|road|file|user|company|business|product|hotel|restaurant|venue|bank|pet'?s|dog'?s|cat'?s)\s)\bname,?\s+please\b|\bwho\s+(?:am\s+i|is\s+this)\s+(?:speaking|talking|chatting)\b|\bwith\s+whom\b|\bwho\s+(?:is|are)\s+(?:the\s+)?(?:host|guest|patient)/gi,
  ],
  ['surname', /\bmaiden\s+name|\bsurname\b|\blast\s+name|\bfamily\s+name/gi],
  ['pet', /\bpet'?s?\b[^?.!]{0,40}\bname\b|\bname\s+of\s+(?:the|your)\s+(?:first\s+)?(?:pet|dog|cat)\b/gi],
  ['account', /\baccount\s*(?:number|no\b|#|id\b)|\bacct\b|\bmember(?:ship)?\s*(?:number|id\b|no\b)/gi],
  [
    'pin',
    /\bpin\b|\bpass\s?code\b|\b(?:access|clearance|security|door|entry)\s+code\b|\benter\s+(?:the|your)\s+code\b/gi,
  ],
  ['dob', /\bdate\s+of\s+birth\b|\bd\.?o\.?b\b|\bbirth\s?(?:day|date)\b|\bwhen\s+were\s+you\s+born\b/gi],
  ['password', /\bpass\s?word\b|\bpasswd\b|\bpwd\b/gi],
  [
    'phone',
    /\b(?:phone|mobile|cell|telephone|contact)\s*(?:number|no\b|#)|\bnumber\s+(?:to|where)\s+(?:call|reach)/gi,
  ],
  ['email', /\be-?mail\b/gi],
  [
    'address',
    /\b(?:home|street|mailing|postal|shipping|billing|your)\s+address\b|\bwhere\s+do\s+you\s+live\b/gi,
  ],
];

/** The things `question` asks for, in the order it mentions them. */
// A turn that only states things ("My PIN is 1596.") asks for nothing.
const REQUEST =
  /\?|\b(?:please|provide|enter|tell\s+me|give\s+me|what|which|may\s+i|could\s+you|can\s+you|need|confirm|verify|type)\b/i;

export function asksIn(question: string | undefined): Ask[] {
  if (!question || question.length > 400 || !REQUEST.test(question)) return [];
  const found: { ask: Ask; at: number }[] = [];
  for (const [ask, pattern] of ASK_PATTERNS) {
    pattern.lastIndex = 0;
    const match = pattern.exec(question);
    if (match) found.push({ ask, at: match.index });
  }
  // "the name of the pet" and "maiden name" are not asking for the speaker's name.
  const pet = found.some((f) => f.ask === 'pet');
  const surname = found.some((f) => f.ask === 'surname');
  return found
    .filter((f) => !(f.ask === 'name' && (pet || surname)))
    .sort((a, b) => a.at - b.at)
    .map((f) => f.ask);
}
