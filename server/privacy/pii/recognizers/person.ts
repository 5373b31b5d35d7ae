/**
 * Person names. A capitalized word is not enough (prices, products, places and "Will you" are
 * capitalized too), so a name needs one of these signals, each with its own score:
 *   - a cue before it: "my name is", "I'm", "this is", "Hi"/"Dear"/"Thanks,", a title (Dr., Mrs.),
 *     a relation ("my friend", "your driver is"), a few foreign-language intros ("me llamo");
 *   - a bare reply right after a question for a name ("Could I get your name, please?" -> "Alexis Smith");
 *   - the given-name lexicon (words that are also ordinary words, like Will or Grace, need a cue);
 *   - a name already seen in the same conversation;
 *   - wink-nlp's part-of-speech tag, asked only when the cheap signals leave a word in doubt.
 * A name extends over the capitalized words that follow it ("Brian White", "José Núñez").
 */

import { COMMON_WORDS } from '../lexicon/common-words.js';
import { AMBIGUOUS_NAMES, FIRST_NAMES } from '../lexicon/first-names.js';
import { type PosToken, posAt, posTags } from '../nlp.js';
import { isCapitalized, matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import { type AnalysisInput, memoized, type Recognizer } from './recognizer.js';

interface Token {
  start: number;
  /** End of the name part ("Ben" in "Ben's"). */
  end: number;
  word: string;
  lower: string;
  /** Text between the previous token and this one. */
  gap: string;
  /** Carries an apostrophe that is not a possessive ('s): "don't", "I'm". */
  contraction: boolean;
  possessive: boolean;
  /** The whole token in lower case, apostrophes straightened ("it's", "i'm"). */
  raw: string;
}

type Cue = 'name' | 'intro' | 'itis' | 'title' | 'greeting' | 'relation' | 'weak';

const CUE_SCORES: Record<Cue, number> = {
  name: 0.9,
  title: 0.85,
  intro: 0.8,
  itis: 0.75,
  greeting: 0.75,
  relation: 0.75,
  weak: 0.6,
};

/**
 * Cue phrases, matched on tokens (a Map lookup per word instead of regular expressions over the
 * text). The gap after the phrase may hold what GAP_AFTER allows for its cue ("Dr. Morgan",
 * "Thanks, Priya", "maiden name: Cooper").
 */
const RELATIONS =
  'friend son daughter wife husband partner colleague coworker co-worker boss mom mum mother dad father brother sister uncle aunt cousin grandma grandpa grandmother grandfather niece nephew boyfriend girlfriend fiance fiancé fiancée neighbor neighbour roommate manager driver host guest patient agent representative technician nurse';
const CUE_PHRASES: Record<Cue, string[]> = {
  name: [
    'my name is',
    "my name's",
    'name is',
    "name's",
    'call me',
    'me llamo',
    'mi nombre es',
    "je m'appelle",
    'ich heiße',
    'ich heisse',
    'mein name ist',
    'mi chiamo',
    'meu nome é',
    'tên tôi là',
    'jeg hedder',
    'jag heter',
    'ik heet',
  ],
  intro: [
    "it's me",
    'it is me',
    'its me',
    'this is',
    "i'm",
    'im',
    'i am',
    'you are',
    'your are',
    'soy',
    'je suis',
  ],
  // "it's Angela" but also "it's Cloudy": only for words that are names anyway.
  itis: ["it's", 'it is', 'its'],
  title:
    'dr mr mrs ms mx miss mister doctor prof professor sir madam señor señora sr sra herr frau monsieur madame mme'.split(
      ' ',
    ),
  greeting: [
    ...'hi hello hey dear thanks thx bye goodbye welcome hola bonjour hallo ciao regards cheers best sincerely'.split(
      ' ',
    ),
    'thank you',
    'good morning',
    'good afternoon',
    'good evening',
  ],
  relation: [
    ...RELATIONS.split(' ').flatMap((r) => [
      r,
      `${r} is`,
      `${r} was`,
      `${r} will be`,
      `${r} named`,
      `${r} called`,
    ]),
    'named',
    'called',
    'maiden',
    'maiden name',
    'maiden is',
    'maiden name is',
    'maiden name was',
  ],
  // Enough for a listed name; for any other capitalized word only with a PROPN tag (see verbCue).
  weak: 'with for and or visit visiting meet meeting see tell told ask asked invite invited than'.split(' '),
};
const GAP_AFTER: Record<Cue, RegExp> = {
  name: /^\s*:?\s+$/,
  intro: /^\s*,?\s+$/,
  itis: /^\s+$/,
  title: /^\.?\s*$/,
  greeting: /^\s*,?\s+$/,
  relation: /^\s*[,:]?\s+$/,
  weak: /^\s+$/,
};
/** Last word of a phrase -> the phrases ending with it (words in reading order). */
const PHRASES_BY_LAST_WORD = new Map<string, { cue: Cue; words: string[] }[]>();
for (const [cue, phrases] of Object.entries(CUE_PHRASES) as [Cue, string[]][]) {
  for (const phrase of phrases) {
    const words = phrase.split(' ');
    const last = words[words.length - 1]!;
    PHRASES_BY_LAST_WORD.set(last, [...(PHRASES_BY_LAST_WORD.get(last) ?? []), { cue, words }]);
  }
}

const TOKEN = /[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*(?:-[\p{L}\p{M}]+)*/gu;
const POSSESSIVE = /['’]s$/i;
// Name particles inside a full name: "Ludwig van Beethoven", "José de la Cruz".
const PARTICLES = new Set([
  'van',
  'von',
  'de',
  'da',
  'del',
  'della',
  'di',
  'du',
  'la',
  'le',
  'bin',
  'ibn',
  'al',
  'el',
  'ter',
  'den',
  'der',
  'dos',
  'das',
]);
// A following word that makes the capitalized words a place or a business, not a person.
const PLACE_WORDS = new Set(
  'hotel inn venue club cafe café bank airport street st avenue ave road rd station park hall center centre apartments apartment university college school hospital church restaurant bar grill company inc ltd llc corp airlines airways heights bay lake river mall plaza tower building square'.split(
    ' ',
  ),
);
// Street names that make "X and Y" an intersection ("Craig and Center", "Broadway and Main").
const STREET_WORDS = new Set(
  'main center centre broadway market park oak elm pine maple church high first second third fourth fifth'.split(
    ' ',
  ),
);
const PET_CUE =
  /\b(?:pets?|dog|dogs|cat|cats|gerbil|hamster|puppy|kitten|parrot|fish|horse|rabbit|bunny|bird|turtle)(?:['’]s)?\b(?:\s+(?:is|was|named|called|name(?:\s+(?:is|was))?))?[\s,:]*$/i;
const ASKED_FILLERS = new Set(
  "of course sure yes yeah yep yup ok okay well hi hello hey um uh oh so it's its it is this i'm im i am me my name the full first certainly absolutely dr doctor mr mrs ms miss that's thats".split(
    ' ',
  ),
);
// Parts of speech that mean the word is used as an ordinary word, not a name.
const NOT_A_NAME_POS = new Set([
  'VERB',
  'AUX',
  'ADV',
  'ADP',
  'DET',
  'PRON',
  'CCONJ',
  'SCONJ',
  'ADJ',
  'NUM',
  'PART',
  'INTJ',
]);

// Determiners and numbers: "a Chai Latte", "two Chai Lattes" are things, not people.
const DETERMINERS = new Set(
  'a an the these those some any every each our their its one two three four five six seven eight nine ten another'.split(
    ' ',
  ),
);
// "and Murray", "to Atwood" name streets as often as people: an unlisted word needs a stronger verb.
const WEAK_FOR_UNKNOWN = new Set([
  'visit',
  'visiting',
  'meet',
  'tell',
  'told',
  'ask',
  'asked',
  'invite',
  'invited',
]);
// "with X" names a person after these ("a meeting with Søren"), an airline or a bank after others.
const BEFORE_WITH = new Set([
  'meeting',
  'appointment',
  'talk',
  'talking',
  'speak',
  'speaking',
  'spoke',
  'chat',
  'chatting',
  'call',
  'met',
  'date',
]);
// "San Francisco", "Santa Monica", "Fort Lauderdale": a listed name after these is a place.
const PLACE_PREFIXES = new Set(
  'san santa santo são st saint los las fort port mount mt lake new el'.split(' '),
);

/** "josé" -> "jose", "søren" -> "soren": the lexicon is written without accents. */
const foldAccents = (word: string): string =>
  word.normalize('NFD').replace(/\p{M}/gu, '').replace(/ø/g, 'o').replace(/æ/g, 'ae').replace(/ß/g, 'ss');

const TOKENS = Symbol('person-tokens');
const POS = Symbol('person-pos');

const hasApostrophe = (word: string) => word.includes("'") || word.includes('’');

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let previousEnd = 0;
  for (const match of matchesOf(TOKEN, text)) {
    const full = match[0];
    const apostrophe = hasApostrophe(full);
    const word = apostrophe && POSSESSIVE.test(full) ? full.slice(0, -2) : full;
    const start = match.index;
    const lower = word.toLowerCase();
    const rawLower = word === full ? lower : full.toLowerCase();
    tokens.push({
      start,
      end: start + word.length,
      word,
      lower,
      gap: text.slice(previousEnd, start),
      contraction: apostrophe && hasApostrophe(word),
      possessive: word !== full,
      raw: apostrophe ? rawLower.replace(/’/g, "'") : rawLower,
    });
    previousEnd = start + full.length;
  }
  return tokens;
}

type CaseMode = 'mixed' | 'lower' | 'upper';

function caseModeOf(text: string): CaseMode {
  const hasUpper = /\p{Lu}/u.test(text);
  const hasLower = /\p{Ll}/u.test(text);
  if (hasUpper && hasLower) return 'mixed';
  return hasUpper ? 'upper' : 'lower';
}

class PersonAnalysis {
  readonly tokens: Token[];
  readonly mode: CaseMode;
  /** Token index -> strongest cue before it. */
  readonly cues = new Map<number, Cue>();
  readonly found: DetectedEntity[] = [];
  private readonly taken = new Set<number>();

  constructor(private readonly input: AnalysisInput) {
    this.tokens = memoized(input, TOKENS, () => tokenize(input.text));
    this.mode = caseModeOf(input.text);
  }

  private pos(): PosToken[] {
    return memoized(this.input, POS, () => posTags(this.input.text));
  }

  run(): DetectedEntity[] {
    const { tokens } = this;
    if (tokens.length === 0) return this.found;
    this.findCues();
    if (this.input.asked.includes('name') || this.input.asked.includes('surname')) this.askedReply();
    for (let i = 0; i < tokens.length; i += 1) {
      if (this.taken.has(i)) continue;
      const score = this.scoreToken(i);
      if (score > 0) this.accept(i, score, this.cues.get(i) === 'name' && !isCapitalized(tokens[i]!.word));
    }
    return this.found;
  }

  private findCues(): void {
    const { tokens } = this;
    for (let i = 1; i < tokens.length; i += 1) {
      const phrases = PHRASES_BY_LAST_WORD.get(tokens[i - 1]!.raw);
      if (!phrases) continue;
      for (const { cue, words } of phrases) {
        if (!GAP_AFTER[cue].test(tokens[i]!.gap)) continue;
        const first = i - words.length;
        if (first < 0) continue;
        let matches = true;
        for (let k = 0; k < words.length - 1 && matches; k += 1) {
          const token = tokens[first + k]!;
          matches = token.raw === words[k] && (k === 0 || /^\s+$/.test(token.gap));
        }
        if (!matches || (words.length > 1 && !/^\s+$/.test(tokens[i - 1]!.gap))) continue;
        const current = this.cues.get(i);
        if (current === undefined || CUE_SCORES[cue] > CUE_SCORES[current]) this.cues.set(i, cue);
      }
    }
  }

  /** Score of token i as the first word of a name, 0 when it is not one. */
  private scoreToken(i: number): number {
    const token = this.tokens[i]!;
    if (token.word.length < 2 || token.contraction) return 0;
    const score = this.evidence(i);
    return score > 0 && !this.petBefore(token) && !this.placeAround(i) ? score : 0;
  }

  private evidence(i: number): number {
    const token = this.tokens[i]!;
    const { lower } = token;
    const cue = this.cues.get(i);
    const capitalized = isCapitalized(token.word);
    // Most words: lower case, no cue, in ordinary mixed-case text.
    if (this.mode === 'mixed' && !capitalized && cue === undefined) return 0;
    // After "What was the name of your pet?" a bare word is the pet's name.
    if (this.input.asked.includes('pet')) return 0;
    const ambiguous = AMBIGUOUS_NAMES.has(lower);
    const lexicon =
      ambiguous || FIRST_NAMES.has(lower) || (/[^a-z'’-]/.test(lower) && FIRST_NAMES.has(foldAccents(lower)));
    const common = COMMON_WORDS.has(lower);
    if (
      this.mode === 'mixed' &&
      capitalized &&
      token.word.length <= 3 &&
      token.word === token.word.toUpperCase() &&
      !lexicon
    )
      return 0; // an acronym: AI, ATM, BMW
    if (this.mode !== 'mixed') {
      if (cue === 'name') return common && !lexicon ? 0 : CUE_SCORES.name;
      if (lexicon && !ambiguous) return cue ? CUE_SCORES[cue] : 0.55;
      return this.known(lower, common) ? 0.7 : 0;
    }
    if (cue === 'name' && (!common || lexicon)) return CUE_SCORES.name;
    if (!cue && this.afterDeterminer(i)) return 0; // "a Chai Latte", "the Grace period"
    if (capitalized) {
      if (cue && cue !== 'weak' && cue !== 'itis' && (!common || ambiguous)) return CUE_SCORES[cue];
      if (cue === 'itis' && lexicon) return CUE_SCORES.itis;
      if (lexicon && !ambiguous) {
        if (!cue && this.afterProperNoun(i)) return 0; // "San Francisco", "Virgin Atlantic"
        // Mid-sentence, the capital letter is the evidence; at a sentence start ask the tagger.
        if (this.sentenceInitial(i) && !this.usedAsName(token)) return 0;
        return cue ? CUE_SCORES[cue] : 0.6;
      }
      if (ambiguous && this.followedBySurname(i)) return 0.6;
      if (this.known(lower, common)) return 0.7;
      if (
        cue === 'weak' &&
        this.verbCue(i) &&
        !common &&
        !lexicon &&
        !this.sentenceInitial(i) &&
        posAt(this.pos(), token.start) === 'PROPN'
      )
        return 0.55;
      return 0;
    }
    // Lower case in mixed text: "my son ben", "I'm ben".
    if (lexicon && !ambiguous && cue && cue !== 'weak' && cue !== 'greeting') return CUE_SCORES[cue] - 0.05;
    return 0;
  }

  private known(lower: string, common: boolean): boolean {
    return !common && this.input.isKnownPerson !== undefined && this.input.isKnownPerson(lower);
  }

  private usedAsName(token: Token): boolean {
    return !NOT_A_NAME_POS.has(posAt(this.pos(), token.start) ?? 'PROPN');
  }

  private verbCue(i: number): boolean {
    const before = this.tokens[i - 1]?.lower ?? '';
    return (
      WEAK_FOR_UNKNOWN.has(before) || (before === 'with' && BEFORE_WITH.has(this.tokens[i - 2]?.lower ?? ''))
    );
  }

  private sentenceInitial(i: number): boolean {
    return i === 0 || /[.!?:;\n]/.test(this.tokens[i]!.gap);
  }

  /** "Grace Hopper" but not "Max Party Size" (a run of capitalized words is a title or a heading). */
  private followedBySurname(i: number): boolean {
    const next = this.tokens[i + 1];
    const after = this.tokens[i + 2];
    if (after && /^ $/.test(after.gap) && isCapitalized(after.word)) return false;
    return (
      next !== undefined &&
      /^ $/.test(next.gap) &&
      isCapitalized(next.word) &&
      !COMMON_WORDS.has(next.lower) &&
      !PLACE_WORDS.has(next.lower) &&
      !AMBIGUOUS_NAMES.has(next.lower)
    );
  }

  private afterProperNoun(i: number): boolean {
    const before = this.tokens[i - 1];
    if (!before || !/^ $/.test(this.tokens[i]!.gap) || !isCapitalized(before.word)) return false;
    if (PLACE_PREFIXES.has(before.lower)) return true;
    const lower = before.lower;
    return (
      !FIRST_NAMES.has(lower) &&
      !AMBIGUOUS_NAMES.has(lower) &&
      !COMMON_WORDS.has(lower) &&
      !this.sentenceInitial(i - 1)
    );
  }

  private afterDeterminer(i: number): boolean {
    const before = this.tokens[i - 1];
    return before !== undefined && /^\s+$/.test(this.tokens[i]!.gap) && DETERMINERS.has(before.lower);
  }

  private petBefore(token: Token): boolean {
    return PET_CUE.test(this.input.text.slice(Math.max(0, token.start - 30), token.start));
  }

  /** "Craig and Center", "Morgan Stanley Bank", "Hilton Hotel". */
  private placeAround(i: number): boolean {
    const t = this.tokens;
    if (
      STREET_WORDS.has(t[i]!.lower) ||
      (i > 0 && PLACE_PREFIXES.has(t[i - 1]!.lower) && /^ $/.test(t[i]!.gap))
    )
      return true;
    let j = i + 1;
    while (j < t.length && j <= i + 3 && /^\s+$/.test(t[j]!.gap) && isCapitalized(t[j]!.word)) {
      if (PLACE_WORDS.has(t[j]!.lower)) return true;
      j += 1;
    }
    const next = t[i + 1];
    const after = t[i + 2];
    if (next?.lower === 'and' && after && STREET_WORDS.has(after.lower) && isCapitalized(after.word))
      return true;
    const before = t[i - 1];
    const beforeThat = t[i - 2];
    return (
      before?.lower === 'and' &&
      beforeThat !== undefined &&
      STREET_WORDS.has(beforeThat.lower) &&
      isCapitalized(this.tokens[i]!.word) &&
      STREET_WORDS.has(this.tokens[i]!.lower)
    );
  }

  /** After "What is your name?": the first name-like words of the reply. */
  private askedReply(): void {
    const { tokens } = this;
    let i = 0;
    while (i < tokens.length && i < 6 && ASKED_FILLERS.has(tokens[i]!.lower) && !/\d/.test(tokens[i]!.gap))
      i += 1;
    const first = tokens[i];
    if (!first || first.start > 40 || /\d/.test(first.gap) || first.contraction || this.petBefore(first))
      return;
    const lexicon = FIRST_NAMES.has(first.lower);
    if (COMMON_WORDS.has(first.lower) && !lexicon) return;
    const short = tokens.length <= 3;
    if (this.mode === 'mixed' && !isCapitalized(first.word) && !lexicon && !short) return;
    this.accept(i, 0.8, !isCapitalized(first.word));
  }

  /** Records the name starting at token i and extends it over the following name words. */
  private accept(i: number, score: number, lowercaseAllowed: boolean): void {
    const { tokens } = this;
    let last = i;
    for (let j = i + 1; j < tokens.length && j <= i + 3; j += 1) {
      const next = tokens[j]!;
      if (!/^[ \u00a0]{1,3}$/.test(next.gap) || next.contraction) break;
      if (tokens[j - 1]!.possessive) break;
      if (PARTICLES.has(next.lower) && tokens[j + 1] && isCapitalized(tokens[j + 1]!.word)) continue;
      // "Nguyễn Văn An": a capitalized common word continues a name that is not English anyway.
      const foreign = /[^\p{ASCII}]/u.test(this.input.text.slice(tokens[i]!.start, tokens[j - 1]!.end));
      const nameLike =
        (!COMMON_WORDS.has(next.lower) || (foreign && isCapitalized(next.word) && next.word !== 'I')) &&
        !PLACE_WORDS.has(next.lower) &&
        (isCapitalized(next.word) || (lowercaseAllowed && this.mode !== 'upper'));
      if (!nameLike) break;
      last = j;
    }
    for (let k = i; k <= last; k += 1) this.taken.add(k);
    this.found.push({
      type: 'PERSON',
      start: tokens[i]!.start,
      end: tokens[last]!.end,
      score,
      recognizer: 'person',
    });
  }
}

export const personRecognizer: Recognizer = {
  name: 'person',
  entities: ['PERSON'],
  analyze(input) {
    return new PersonAnalysis(input).run();
  },
};
