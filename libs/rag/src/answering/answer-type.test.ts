import { describe, expect, it } from 'vitest';
import type { AnswerType } from './answer-type.ts';
import { answerTypeEvidence, answerTypeOf } from './answer-type.ts';

describe('answerTypeOf', () => {
  it.each<[string, AnswerType]>([
    ['When was Tesla born?', 'date'],
    ['In what year did the exchange reopen?', 'date'],
    ['Which century saw the reform?', 'date'],
    ['How many points did the defense give up?', 'number'],
    ['What percentage of stations ran out?', 'number'],
    ['Who registered the most sacks?', 'person'],
    ['Whose idea was it?', 'person'],
    ['Where did Luther teach?', 'place'],
    ['Which country hosted the games?', 'place'],
    ['What is the name of the alphabet?', 'other'],
    ['टेस्ला का जन्म कब हुआ?', 'date'],
    ['किस वर्ष स्टॉक एक्सचेंज फिर खुला?', 'date'],
    ['कौन सा वर्ष था?', 'date'],
    ['पैंथर्स डिफ़ेंस ने कितने अंक दिए?', 'number'],
    ['सबसे अधिक सैक किसने किए?', 'person'],
    ['क्वार्टरबैक कौन थे?', 'person'],
    ['कौन सी पार्टी सबसे शक्तिशाली है?', 'other'],
    ['लूथर कहाँ पढ़ाते थे?', 'place'],
    ['किस शहर में मैच हुआ?', 'place'],
    ['कबीर के दोहे क्या हैं?', 'other'],
  ])('%s -> %s', (question, type) => {
    expect(answerTypeOf(question)).toBe(type);
  });
});

describe('answerTypeEvidence', () => {
  const none = new Set<string>();

  it('needs a phrase of the asked type that the question does not already contain', () => {
    expect(answerTypeEvidence('date', 'The exchange reopened in April 1991.', none)).toBe(1);
    expect(answerTypeEvidence('date', 'The exchange reopened in 1991.', new Set(['1991']))).toBe(0);
    expect(answerTypeEvidence('number', 'The defense gave up 308 points.', none)).toBe(1);
    expect(answerTypeEvidence('number', 'It had two interceptions.', none)).toBeGreaterThan(0);
    expect(answerTypeEvidence('number', 'It had interceptions.', none)).toBe(0);
    expect(answerTypeEvidence('person', 'The sack leader was Kawann Short.', none)).toBe(1);
    expect(answerTypeEvidence('person', 'the sack leader was unknown.', none)).toBe(0);
    expect(answerTypeEvidence('person', 'सबसे अधिक सैक कावन शॉर्ट ने किए।', none)).toBeGreaterThan(0);
    expect(answerTypeEvidence('place', 'He taught at Paris for years.', none)).toBe(1);
    expect(answerTypeEvidence('place', 'वह पेरिस में पढ़ाते थे।', none)).toBeGreaterThan(0);
    expect(answerTypeEvidence('date', 'मार्च 1991 में यह फिर खुला।', none)).toBe(1);
    expect(answerTypeEvidence('other', 'Anything at all in 1991.', none)).toBe(0);
  });
});
