import { distanceBefore, matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

const SUFFIX =
  'Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Terrace|Ter|Way|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Close|Row|Alley|Plaza|Loop|Pike';
const WORD = "(?:[\\p{Lu}\\d][\\p{L}\\d'’.-]*)";
const UNIT = '(?:,?\\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|#)\\.?\\s*#?[\\w-]+)?';
// ", Springfield, IL 62704" / ", London" / " 94103"
const TAIL =
  "(?:,\\s*\\p{Lu}[\\p{L}'’-]*(?:\\s\\p{Lu}[\\p{L}'’-]*){0,2}){0,2}(?:,?\\s+[A-Z]{2})?(?:,?\\s+\\d{5}(?:-\\d{4})?)?";

// 1600 Pennsylvania Avenue NW, Apt 4, Washington, DC 20500
const US_STYLE = new RegExp(
  `(?<![\\w-])\\d{1,6}[A-Za-z]?(?:-\\d{1,4})?(?!\\s*[ap]\\.?m\\b)\\s+(?:[NSEW]\\.?\\s+|(?:North|South|East|West)\\s+)?${WORD}(?:\\s+${WORD}){0,3}\\s+(?:${SUFFIX})\\b\\.?(?:\\s+(?:NW|NE|SW|SE|N|S|E|W)\\b)?${UNIT}${TAIL}`,
  'gu',
);
// Hauptstraße 5, Lindenweg 12a, 10115 Berlin
const GERMAN_STYLE =
  /(?<![\w-])\p{Lu}[\p{L}-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm)\s+\d{1,4}[a-z]?(?:,\s*\d{4,5}\s+\p{Lu}[\p{L}-]+)?/gu;
// 12 rue de Rivoli, 8 bis avenue Foch
const FRENCH_STYLE =
  /(?<![\w-])\d{1,4}(?:\s*(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|cours)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*\p{Lu}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’-]*){0,3}/gu;
// In lower case only when the text talks about an address.
const LOWERCASE = new RegExp(
  `(?<![\\w-])\\d{1,6}[a-z]?(?!\\s*[ap]\\.?m\\b)\\s+(?:[\\p{L}\\d'’.-]+\\s+){1,4}(?:${SUFFIX.toLowerCase()})\\b\\.?${UNIT}`,
  'giu',
);
const CUE =
  /\b(?:address|live|lives|living|located|ship|shipping|deliver|delivery|send|mail|billing|reside|moved)\b/gi;

export const streetAddressRecognizer: Recognizer = {
  name: 'street-address',
  entities: ['STREET_ADDRESS'],
  analyze({ text, asked }) {
    const found: DetectedEntity[] = [];
    const push = (start: number, value: string, score: number) => {
      const trimmed = value.replace(/[\s,]+$/, '');
      found.push({
        type: 'STREET_ADDRESS',
        start,
        end: start + trimmed.length,
        score,
        recognizer: 'street-address',
      });
    };
    if (/\d/.test(text)) {
      for (const match of matchesOf(US_STYLE, text)) push(match.index, match[0], 0.75);
      for (const match of matchesOf(GERMAN_STYLE, text)) push(match.index, match[0], 0.7);
      for (const match of matchesOf(FRENCH_STYLE, text)) push(match.index, match[0], 0.7);
      for (const match of matchesOf(LOWERCASE, text))
        if (asked.includes('address') || distanceBefore(text, match.index, CUE, 40) < 40)
          push(match.index, match[0], 0.65);
    }
    // "Address: ..." cues raise every candidate.
    for (const entity of found) {
      if (asked.includes('address') || distanceBefore(text, entity.start, CUE, 40) < 40)
        entity.score = Math.min(1, entity.score + 0.2);
    }
    return found;
  },
};
