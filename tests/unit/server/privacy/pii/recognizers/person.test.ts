import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('person recognizer', () => {
  it.each([
    ["I'm John Smith! I need to check my bank balance.", ['John Smith']],
    ['Hello my name is Tyler Jones and I want to check my balance.', ['Tyler Jones']],
    ['my name is tyler jones', ['tyler jones']],
    ['MY NAME IS TYLER JONES AND I NEED HELP', ['TYLER JONES']],
    ['This is Angela from accounting.', ['Angela']],
    ['Hi Tyler, your order shipped.', ['Tyler']],
    ['Dear Mrs. Okonkwo, thank you for writing.', ['Okonkwo']],
    ['Thanks, Priya!', ['Priya']],
    ['I want to follow up with Dr. Morgan.', ['Morgan']],
    ['Can my son ben come in with me?', ['ben']],
    ['The party is for my friend John.', ['John']],
    ['Your driver will be Sirius.', ['Sirius']],
    ["I am so excited for Ben's party.", ['Ben']],
    ['I do not want Connor or Dave, Dave got lost last time.', ['Connor', 'Dave', 'Dave']],
    ['Hola, me llamo José Núñez.', ['José Núñez']],
    ['My name is Nguyễn Văn An.', ['Nguyễn Văn An']],
    ['Hi Søren, how are you?', ['Søren']],
    ['José Núñez called yesterday.', ['José Núñez']],
    ['I am going to visit Luke and Laura.', ['Luke', 'Laura']],
    ['Hi Will, thanks for calling.', ['Will']],
    ['Grace Hopper wrote the first compiler.', ['Grace Hopper']],
    // negatives: ordinary words that are also names, places, products, titles without a name
    ['Will you bill me later?', []],
    ['The Grace period ends tomorrow.', []],
    ['Bill me next month.', []],
    ['Mark it as urgent, please.', []],
    ["I'd like a Chai Latte.", []],
    ['I need a Dr. appointment.', []],
    ["I'm sorry, I'm not sure.", []],
    ['Hi there, can you help?', []],
    ['Hey AI, can you tell me the status of my ride?', []],
    ['I want to travel from Craig and Center to the Airport.', []],
    ['The flight to San Francisco leaves at 10:30 am.', []],
    ['Please book the Hilton Hotel for May 8th.', []],
    ['Right, I found a Business flight with Virgin for 156 credits.', []],
    ['Take the 28X to Forbes and Atwood.', []],
    ['It will be Sunny all day on Tuesday in Detroit.', []],
  ])('%s -> %j', (text, names) => {
    expect(valuesOf('PERSON', text)).toEqual(names);
  });

  it.each([
    ['Alexis Smith', 'Could I get your name, please?', ['Alexis Smith']],
    ['Ben! Please make the appointment for today.', 'Could I have your name, please?', ['Ben']],
    ['Of course, John Smith.', 'May I have your name, please?', ['John Smith']],
    ['Mark', 'With whom would you like to schedule the meeting?', ['Mark']],
    ['Cooper', "What was your mother's maiden name?", ['Cooper']],
    ['kylo', 'Please provide your name.', ['kylo']],
    // negatives: the same replies without the question, and non-names after it
    ['Alexis Smith', 'What time works for you?', ['Alexis Smith']],
    ['Mark', 'What would you like to do?', []],
    ['Poppy', 'And what was the name of the pet you had as a child?', []],
    ["I don't remember.", 'Could I get your name, please?', []],
    ['Why do you need it?', 'May I have your name, please?', []],
    ['Drive for 3 blocks', 'I need more details like the street name please.', []],
  ])('%s after %j -> %j', (text, previousText, names) => {
    expect(valuesOf('PERSON', text, { previousText })).toEqual(names);
  });

  it('finds a name again when the conversation already knows it', () => {
    expect(valuesOf('PERSON', 'what is your Rank Chewie')).toEqual([]);
    expect(valuesOf('PERSON', 'what is your Rank Chewie', { isKnownPerson: (w) => w === 'chewie' })).toEqual([
      'Chewie',
    ]);
  });
});
