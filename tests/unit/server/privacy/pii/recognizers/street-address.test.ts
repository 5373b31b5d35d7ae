import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('street address recognizer', () => {
  it.each([
    [
      'I live at 1600 Pennsylvania Avenue NW, Washington, DC 20500',
      ['1600 Pennsylvania Avenue NW, Washington, DC 20500'],
    ],
    ['Ship it to 42 Wallaby Way, Sydney.', ['42 Wallaby Way, Sydney']],
    ['221B Baker Street', ['221B Baker Street']],
    ['my address is 12 oak street apt 4', ['12 oak street apt 4']],
    ['Wohnung: Hauptstraße 5, 10115 Berlin', ['Hauptstraße 5, 10115 Berlin']],
    ['au 12 rue de Rivoli', ['12 rue de Rivoli']],
    // negatives: directions, intersections, streets without a number, times
    ['Drive for 700 meters until you reach Wilkins Avenue.', []],
    ['My interview is near Broadway and Main.', []],
    ['Walk 2 blocks east on Forbes Avenue.', []],
    ['Open Time Hour: 1 pm Close Time Hour: 11 pm, does delivery', []],
  ])('%s -> %j', (text, addresses) => {
    expect(valuesOf('STREET_ADDRESS', text)).toEqual(addresses);
  });
});
