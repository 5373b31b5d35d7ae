import { createRegistry } from '../registry.js';
import { accountNumberRecognizer } from './account-number.js';
import { creditCardRecognizer } from './credit-card.js';
import { dateOfBirthRecognizer } from './date-of-birth.js';
import { emailRecognizer } from './email.js';
import { ibanRecognizer } from './iban.js';
import { ipAddressRecognizer } from './ip-address.js';
import { passwordRecognizer } from './password.js';
import { personRecognizer } from './person.js';
import { phoneRecognizer } from './phone.js';
import { pinRecognizer } from './pin.js';
import type { Recognizer } from './recognizer.js';
import { streetAddressRecognizer } from './street-address.js';
import { usSsnRecognizer } from './us-ssn.js';

export type { AnalysisInput, Recognizer } from './recognizer.js';

/** All recognizers by name; on equal scores the earlier one wins an overlap. */
export const recognizers = createRegistry<Recognizer>(
  'recognizer',
  Object.fromEntries(
    [
      emailRecognizer,
      ibanRecognizer,
      creditCardRecognizer,
      usSsnRecognizer,
      ipAddressRecognizer,
      phoneRecognizer,
      streetAddressRecognizer,
      dateOfBirthRecognizer,
      accountNumberRecognizer,
      pinRecognizer,
      passwordRecognizer,
      personRecognizer,
    ].map((r) => [r.name, r]),
  ),
);
