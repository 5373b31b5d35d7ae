/**
 * Does a visitor's message ask for a person? Matches explicit requests in English, Spanish,
 * French, German, Portuguese and Italian: a bare "agent" / "human" style message, or a phrase
 * such as "talk to someone". Mentions in passing ("my travel agent booked it", "human error")
 * do not count: a false handoff costs an agent's time, a missed one costs a retry.
 */

const strip = (text: string) =>
  text
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** Whole messages that are a request on their own (politeness words are removed first). */
const BARE_REQUESTS = new Set([
  'agent',
  'an agent',
  'live agent',
  'human',
  'a human',
  'human agent',
  'person',
  'a person',
  'real person',
  'a real person',
  'operator',
  'representative',
  'a representative',
  'customer service',
  'support',
  'agente',
  'humano',
  'persona',
  'operador',
  'conseiller',
  'humain',
  'operateur',
  'mitarbeiter',
  'mensch',
  'berater',
  'atendente',
  'operatore',
]);

const POLITENESS =
  /\b(please|pls|plz|por favor|s'il vous plait|s il vous plait|bitte|per favore|now|ahora)\b/g;

const PHRASES: RegExp[] = [
  // English
  /\b(talk|speak|chat)(ing)? (to|with) (a |an |some )?(real |live |actual )?(human|person|agent|someone|somebody|representative|operator|people)\b/,
  /\b(want|need|get|give me|connect me (to|with)|transfer me to|put me through to) (a |an |to a |to an )?(real |live |actual )?(human|person|agent|representative|operator)\b/,
  /\b(real|live|actual) (human|person|agent)\b/,
  // Spanish
  /\b(hablar|comunicarme|contactar) con (un |una |alguien|el |la )?(agente|persona|humano|asesor|operador|alguien)/,
  /\b(quiero|necesito) (un |una )?(agente|persona real|humano|asesor)\b/,
  // French
  /\b(parler|discuter) (a|avec) (un |une |quelqu'un|quelqu un|un vrai |une vraie )?(humain|personne|conseiller|agent|quelqu'un|quelqu un)/,
  /\b(je veux|je voudrais) (un |une )?(humain|conseiller|agent|vraie personne)\b/,
  // German
  /\b(mit )(einem |einer )?(menschen|mitarbeiter|mitarbeiterin|berater|beraterin|person|jemandem) (sprechen|reden)\b/,
  // Portuguese
  /\b(falar|conversar) com (um |uma |alguem|o |a )?(atendente|humano|pessoa|agente|alguem)/,
  // Italian
  /\b(parlare) con (un |una |qualcuno|un )?(operatore|umano|persona|agente|qualcuno)/,
];

export function asksForHuman(message: string): boolean {
  const text = strip(message);
  if (!text) return false;
  const bare = text.replace(POLITENESS, ' ').replace(/\s+/g, ' ').trim();
  if (BARE_REQUESTS.has(bare)) return true;
  return PHRASES.some((phrase) => phrase.test(text));
}
