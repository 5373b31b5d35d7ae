import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('date of birth recognizer', () => {
  it.each([
    ['I was born on 06/08/1985.', undefined, ['06/08/1985']],
    ['DOB: 1990-04-04', undefined, ['1990-04-04']],
    ['My birthday is March 3, 1985', undefined, ['March 3, 1985']],
    ['date of birth 3rd of March 1985', undefined, ['3rd of March 1985']],
    ['29/02/1980', 'Could you provide your date of birth, please?', ['29/02/1980']],
    ['04/04/1990, mother maiden name Cooper', 'Alright, what is your date of birth?', ['04/04/1990']],
    // negatives: dates that are not birth dates, impossible dates, times
    ['My flight is on 06/08/2021.', undefined, []],
    ['I ordered it on March 3, 2020.', undefined, []],
    ['born 45/45/1985', undefined, []],
    ['The meeting is on 12/05/2020 at 10:30', 'When is the meeting?', []],
  ])('%s (after %j) -> %j', (text, previousText, dates) => {
    expect(valuesOf('DATE_OF_BIRTH', text, { previousText })).toEqual(dates);
  });
});
