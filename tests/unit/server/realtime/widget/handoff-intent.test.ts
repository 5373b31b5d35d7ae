import { describe, expect, it } from 'vitest';
import { asksForHuman } from '../../../../../server/realtime/widget/handoff-intent.js';

describe('asksForHuman', () => {
  it.each([
    'agent',
    'Agent!',
    'AGENT PLEASE',
    'human',
    'a real person please',
    'representative',
    'I want to talk to a human',
    'Can I speak with someone?',
    'let me chat to a live agent',
    'connect me to an agent',
    'I need a real person',
    'transfer me to a representative',
    'agente',
    'Quiero hablar con una persona',
    'necesito un asesor',
    'je voudrais parler à un conseiller',
    'Puis-je parler avec quelqu’un ?',
    'Ich möchte mit einem Mitarbeiter sprechen',
    'mitarbeiter bitte',
    'quero falar com um atendente',
    'posso parlare con un operatore?',
  ])('hears a request for a person in "%s"', (text) => {
    expect(asksForHuman(text)).toBe(true);
  });

  it.each([
    '',
    '   ',
    'my travel agent booked the hotel',
    'that was human error on my part',
    'is a person allowed to bring a dog?',
    'the agent at the desk was rude yesterday',
    'I need to change my booking',
    'What are your opening hours?',
    'Speak up, the music is loud',
    'personal account balance please',
  ])('does not hand over for "%s"', (text) => {
    expect(asksForHuman(text)).toBe(false);
  });
});
