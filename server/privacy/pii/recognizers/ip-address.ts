import { isIPv6 } from 'node:net';
import { distanceBefore, matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// Not part of a longer dotted number (a version string such as 1.2.3.4.5).
const IPV4 = new RegExp(`(?<![\\d.])${OCTET}(?:\\.${OCTET}){3}(?![\\d]|\\.\\d)`, 'g');
// Candidates: hex groups with at least two colons, optionally an embedded IPv4 tail and a zone.
const IPV6 =
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[\w.]+)?(?![\w:])/g;
const CONTEXT = /\b(?:ip|ipv4|ipv6|address|server|host|router|gateway|ping|subnet)\b/gi;

export const ipAddressRecognizer: Recognizer = {
  name: 'ip-address',
  entities: ['IP_ADDRESS'],
  analyze({ text }) {
    const found: DetectedEntity[] = [];
    if (text.includes('.')) {
      for (const match of matchesOf(IPV4, text)) {
        const near = distanceBefore(text, match.index, CONTEXT, 30) < 30;
        const end = match.index + match[0].length;
        found.push({
          type: 'IP_ADDRESS',
          start: match.index,
          end,
          score: near ? 0.95 : 0.75,
          recognizer: 'ip-address',
        });
      }
    }
    if (text.includes(':')) {
      for (const match of matchesOf(IPV6, text)) {
        let value = match[0];
        if (value.endsWith(':') && !value.endsWith('::')) value = value.slice(0, -1); // "fe80::1:" at a colon
        const zone = value.indexOf('%');
        if (!isIPv6(zone === -1 ? value : value.slice(0, zone))) continue;
        // "::" alone means nothing; "::1" is the loopback address.
        if (value.length < 3) continue;
        found.push({
          type: 'IP_ADDRESS',
          start: match.index,
          end: match.index + value.length,
          score: 0.9,
          recognizer: 'ip-address',
        });
      }
    }
    return found;
  },
};
