import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('IP address recognizer', () => {
  it.each([
    ['from 192.168.1.20 yesterday', ['192.168.1.20']],
    ['server 8.8.8.8.', ['8.8.8.8']],
    ['v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 full', ['2001:0db8:85a3:0000:0000:8a2e:0370:7334']],
    ['compressed 2001:db8::ff00:42:8329', ['2001:db8::ff00:42:8329']],
    ['loopback ::1 and fe80::1%eth0', ['::1', 'fe80::1%eth0']],
    ['mapped ::ffff:192.0.2.128', ['::ffff:192.0.2.128']],
    // negatives: times, versions, out-of-range octets, prices
    ['meet at 10:30:45 today', []],
    ['version 1.2.3.4.5', []],
    ['999.1.1.1 is not an address', []],
    ['it costs 12.99 EUR', []],
    ['ratio 1:2:3', []],
  ])('%s -> %j', (text, ips) => {
    expect(valuesOf('IP_ADDRESS', text)).toEqual(ips);
  });
});
