/**
 * Numbers that only context makes personal: account numbers and PINs ("my PIN is 5380", or a bare
 * "0314" right after "your PIN as well, please"). Shared by account-number.ts and pin.ts so that
 * both read the same candidates and the nearest cue decides.
 */
import type { Ask } from '../context.js';
import { distanceAfter, distanceBefore, matchesOf } from '../text.js';
import { type AnalysisInput, memoized } from './recognizer.js';

export interface ContextNumber {
  start: number;
  end: number;
  digits: number;
  /** Characters from the nearest account cue before it (Infinity when none). */
  accountBefore: number;
  accountAfter: number;
  pinBefore: number;
  /** An order, ticket, balance... cue is nearer than any account or PIN cue. */
  otherBefore: boolean;
  /** Set when the previous turn asked for it and nothing in the text says otherwise. */
  asked?: 'account' | 'pin';
}

const NUMBER = /(?<![\w$€£¥#@/.,:+-])\d(?:[ -]?\d){2,24}(?![\w%/:°]|[.,]\d)/g;
// Amounts, counts and times are not identifiers.
const UNIT_AFTER =
  /^\s*(?:credits?|dollars?|bucks|usd|eur|euros?|pounds?|gbp|percent|people|persons?|guests?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?|km|kilomet\w*|miles?|meters?|metres?|degrees?|stops?|blocks?|bedrooms?|beds?|rooms?|floors?|square|sq|kg|lbs?|items?|times?|am|pm|a\.m|p\.m)\b/i;
const ACCOUNT_CUE =
  /\b(?:account|acct|a\/c|member(?:ship)?\s*(?:number|no|id|#)|customer\s+(?:number|no|id))\b/gi;
const PIN_CUE =
  /\b(?:pin|pins|pass\s?code|(?<!(?:zip|postal|post|promo|discount|coupon|area|country|product|error|confirmation|booking|reference|tracking|voucher|gift|qr|bar|source|status|tax|sort|dress)\s)code)\b/gi;
// A nearer identifier word means the number is an order, ticket or room, not an account or PIN.
const OTHER_ID_CUE =
  /\b(?:order|ticket|booking|ride|flight|room|confirmation|reference|ref|invoice|case|tracking|sku|item|model|question|level|floor|suite|apt|zip|postal|budget|balance|id|phone|tel|mobile|cell)\b/gi;

const WINDOW = 40;
const KEY = Symbol('context-numbers');

const fits = (ask: Ask, digits: number): boolean =>
  ask === 'account' ? digits >= 6 && digits <= 20 : ask === 'pin' ? digits >= 4 && digits <= 8 : false;

export function contextNumbers(input: AnalysisInput): ContextNumber[] {
  return memoized(input, KEY, () => {
    const { text } = input;
    const found: ContextNumber[] = [];
    if (!/\d{3}/.test(text)) return found;
    for (const match of matchesOf(NUMBER, text)) {
      const end = match.index + match[0].length;
      if (UNIT_AFTER.test(text.slice(end, end + 12))) continue;
      const digits = match[0].replace(/\D/g, '').length;
      const other = distanceBefore(text, match.index, OTHER_ID_CUE, WINDOW);
      const accountBefore = distanceBefore(text, match.index, ACCOUNT_CUE, WINDOW);
      const pinBefore = distanceBefore(text, match.index, PIN_CUE, WINDOW);
      found.push({
        start: match.index,
        end,
        digits,
        accountBefore: accountBefore < other ? accountBefore : Number.POSITIVE_INFINITY,
        accountAfter: distanceAfter(text, end, ACCOUNT_CUE, 25),
        pinBefore: pinBefore < other ? pinBefore : Number.POSITIVE_INFINITY,
        otherBefore: other < Math.min(accountBefore, pinBefore),
      });
    }
    // A bare reply to "your account number and PIN": numbers take the asks in order.
    const asks = input.asked.filter((a): a is 'account' | 'pin' => a === 'account' || a === 'pin');
    let next = 0;
    for (const number of found) {
      if (next >= asks.length) break;
      if (number.otherBefore) continue;
      if (fits(asks[next]!, number.digits)) number.asked = asks[next++];
      else if (next + 1 < asks.length && fits(asks[next + 1]!, number.digits)) {
        number.asked = asks[next + 1];
        next += 2;
      }
    }
    return found;
  });
}

/** 0.95 right after the cue, falling to 0.55 at the edge of the window. */
export const cueScore = (distance: number): number => 0.95 - (0.4 * distance) / WINDOW;
