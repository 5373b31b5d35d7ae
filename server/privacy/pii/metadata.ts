/**
 * Metadata keys as context: under `CustomerName`, `pin` or `account_number` the value itself is the
 * personal data, whatever it looks like. Values such as `"\"John\""` or
 * `api.is_one_of(["Ella","Dave"])` (STAR's API constraints) hold the data inside quotes.
 */

import { COMMON_WORDS } from './lexicon/common-words.js';
import { AMBIGUOUS_NAMES, FIRST_NAMES } from './lexicon/first-names.js';
import type { EntityType } from './types.js';

/** Key patterns, tried in order, on snake_case keys ("DateOfBirth" -> "date_of_birth"). */
const KEY_HINTS: readonly (readonly [EntityType, RegExp])[] = [
  ['EMAIL_ADDRESS', /e_?mail/],
  ['IP_ADDRESS', /(?:^|_)ip(?:_?v[46])?(?:_address)?$/],
  ['DATE_OF_BIRTH', /birth|(?:^|_)dob$|b_?day/],
  ['PASSWORD', /pass_?word|passwd|(?:^|_)pwd$/],
  ['US_SSN', /(?:^|_)ssn$|social_security/],
  ['CREDIT_CARD', /card_?(?:number|no|num)$|credit_card|(?:^|_)cc_?num/],
  ['IBAN_CODE', /(?:^|_)iban$/],
  ['PIN', /(?:^|_)pin(?:_?(?:code|number))?$|pass_?code|(?:access|security|clearance|door)_code|^code$/],
  ['ACCOUNT_NUMBER', /(?:^|_)(?:account|acct)(?:_?(?:number|no|num|id))?$|member(?:ship)?_(?:number|id)/],
  ['PHONE_NUMBER', /phone|mobile|(?:^|_)cell$|(?:^|_)tel(?:ephone)?$|(?:^|_)fax$/],
  ['STREET_ADDRESS', /address|(?:^|_)street$/],
  [
    'PERSON',
    /^(?:(?:full|first|last|given|family|middle|sur|nick|maiden|customer|client|guest|host|patient|renter|tenant|user|driver|doctor|contact|caller|agent|owner|account_holder|card_holder|holder|sender|recipient|passenger|person|author|employee|member|mother|father)_?)?name$/,
  ],
];

export function snakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[\s-]+/g, '_')
    .toLowerCase();
}

/** Provenance and licence credits name public authors and must survive anonymization (CC BY). */
const KEPT_KEYS = /^(?:attribution|licen[cs]e|copyright|source|source_(?:file|commit|url))$/;

/** Metadata repeats the same few keys in every conversation: decide each key once. */
const keyDecisions = new Map<string, { kept: boolean; hint: EntityType | undefined }>();
const KEY_CACHE_LIMIT = 10_000;

function decide(key: string) {
  let decision = keyDecisions.get(key);
  if (!decision) {
    const snake = snakeCase(key);
    let hint: EntityType | undefined;
    for (const [type, pattern] of KEY_HINTS) {
      if (pattern.test(snake)) {
        hint = type;
        break;
      }
    }
    decision = { kept: KEPT_KEYS.test(snake), hint };
    if (keyDecisions.size >= KEY_CACHE_LIMIT) keyDecisions.clear();
    keyDecisions.set(key, decision);
  }
  return decision;
}

export function keptKey(key: string): boolean {
  return decide(key).kept;
}

export function hintForKey(key: string): EntityType | undefined {
  return decide(key).hint;
}

/**
 * A bare `name` key names products, venues and fields as often as people ("name": "Chai latte",
 * "name": "request"). Its value counts as a person only with evidence: a listed given name that is
 * not also an ordinary word, or a person already seen in the conversation.
 */
export function bareNameKey(key: string): boolean {
  return snakeCase(key) === 'name';
}

export function looksLikePersonName(value: string, isKnownPerson: (word: string) => boolean): boolean {
  return valueSegments(value).some((segment) => {
    const first = value
      .slice(segment.start, segment.end)
      .replace(TITLE, '')
      .trim()
      .split(/\s+/)[0]
      ?.toLowerCase()
      .replace(/[^\p{L}\p{M}'’-]/gu, '');
    return first ? (FIRST_NAMES.has(first) && !AMBIGUOUS_NAMES.has(first)) || isKnownPerson(first) : false;
  });
}

export interface Segment {
  start: number;
  end: number;
}

/** Where the data sits in a hinted string value: inside its double quotes, else the whole trimmed value. */
export function valueSegments(value: string): Segment[] {
  const quoted = [...value.matchAll(/"([^"]*)"/g)];
  const raw =
    quoted.length > 0
      ? quoted.map((m) => ({ start: m.index + 1, end: m.index + 1 + m[1]!.length }))
      : [{ start: 0, end: value.length }];
  const out: Segment[] = [];
  for (const segment of raw) {
    const text = value.slice(segment.start, segment.end);
    const lead = text.length - text.trimStart().length;
    const trimmed = text.trim();
    if (trimmed.length > 0)
      out.push({ start: segment.start + lead, end: segment.start + lead + trimmed.length });
  }
  return out;
}

const TITLE = /^(?:dr|mr|mrs|ms|mx|miss|doctor|prof)\.?\s*/i;
const NOT_A_PERSON =
  /\b(?:hotel|inn|venue|club|cafe|bank|airport|street|avenue|road|station|park|center|centre|apartments?|university|school|hospital|restaurant|bar|grill|company|inc|ltd|llc|corp)\b/i;

/** Narrows a hinted segment to the personal part, or drops it when the value does not fit the type. */
export function fitSegment(type: EntityType, value: string, segment: Segment): Segment | undefined {
  let text = value.slice(segment.start, segment.end);
  let start = segment.start;
  switch (type) {
    case 'PERSON': {
      const title = TITLE.exec(text);
      if (title) {
        start += title[0].length;
        text = text.slice(title[0].length);
      }
      const words = text.split(/\s+/);
      if (words.length > 4 || NOT_A_PERSON.test(text) || !/^[\p{L}\p{M}'’. -]+$/u.test(text))
        return undefined;
      if (words.every((w) => COMMON_WORDS.has(w.toLowerCase()))) return undefined;
      return { start, end: start + text.length };
    }
    case 'PIN':
    case 'ACCOUNT_NUMBER':
    case 'CREDIT_CARD':
    case 'US_SSN':
    case 'PHONE_NUMBER':
    case 'IBAN_CODE':
      return /\d{3}/.test(text) && text.length <= 40 ? segment : undefined;
    case 'DATE_OF_BIRTH':
      return /\d/.test(text) && text.length <= 40 ? segment : undefined;
    default:
      return text.length <= 200 ? segment : undefined;
  }
}
