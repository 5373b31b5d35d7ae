/** The shapes of the PII module's public API (re-exported by index.ts). */

export const ENTITY_TYPES = [
  'PERSON',
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD',
  'IBAN_CODE',
  'US_SSN',
  'IP_ADDRESS',
  'STREET_ADDRESS',
  'ACCOUNT_NUMBER',
  'PIN',
  'DATE_OF_BIRTH',
  'PASSWORD',
] as const;

export type EntityType = (typeof ENTITY_TYPES)[number];

export const OPERATOR_NAMES = ['pseudonymize', 'mask', 'redact', 'hash'] as const;
export type OperatorName = (typeof OPERATOR_NAMES)[number];

export interface DetectedEntity {
  type: EntityType;
  /** UTF-16 offset of the first character. */
  start: number;
  /** UTF-16 offset after the last character (exclusive). */
  end: number;
  /** 0..1; entities under the analyzer's threshold are dropped. */
  score: number;
  /** Name of the recognizer that found it. */
  recognizer: string;
}

export interface PiiReport {
  entities: Partial<Record<EntityType, number>>;
  operators: Partial<Record<OperatorName, number>>;
}

export interface PseudonymState {
  counters: Partial<Record<EntityType, number>>;
  /** HMAC of "TYPE:normalized value" -> placeholder. Never raw values. */
  assignments: Record<string, string>;
}

export interface AnonymizerOptions {
  /** Per-deployment secret: the HMAC key of the `hash` operator and of PseudonymState keys. */
  hashKey: string | Buffer;
  /** Default 'pseudonymize'. */
  operator?: OperatorName;
  /** Per-type override of `operator`. */
  operators?: Partial<Record<EntityType, OperatorName>>;
  /** Default: all of ENTITY_TYPES. */
  entities?: readonly EntityType[];
}

export interface TurnContext {
  role?: 'customer' | 'agent' | 'bot';
}

export interface DetectContext extends TurnContext {
  /** The turn before this one: a question such as "What is your name?" makes a bare reply a name. */
  previousText?: string;
  /**
   * True when a name (normalized: lower case, single spaces) was already seen as a PERSON in the
   * same conversation, so that a later bare mention ("Rank Chewie") is found too.
   */
  isKnownPerson?: (normalized: string) => boolean;
}

export interface ConversationAnonymizer {
  /** Anonymizes one turn; turns must be passed in conversation order (the previous turn is context). */
  anonymizeText(text: string, context?: TurnContext): { text: string; entities: DetectedEntity[] };
  /** Deep-anonymizes metadata; key names (name, pin, account, address, phone, email, ...) are context. */
  anonymizeValue<T>(value: T): T;
  /** Counts so far (no values). */
  report(): PiiReport;
  /** For persisting between ingestion runs. */
  state(): PseudonymState;
}

export interface Anonymizer {
  /** Entities in `text`: UTF-16 offsets, end exclusive, sorted, non-overlapping. */
  detect(text: string, context?: DetectContext): DetectedEntity[];
  conversation(state?: PseudonymState): ConversationAnonymizer;
}
