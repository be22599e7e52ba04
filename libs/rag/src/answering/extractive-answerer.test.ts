import { describe, expect, it } from 'vitest';
import type { AnswerPassage } from './extractive-answerer.ts';
import { extractiveAnswer } from './extractive-answerer.ts';
import { notCoveredReply } from './not-covered-reply.ts';

const warsaw: AnswerPassage = {
  chunkId: 'w1',
  documentId: 'warsaw',
  title: 'Warsaw',
  text:
    "Warsaw's first stock exchange was established in 1817 and continued trading until World War II. " +
    'It was re-established in April 1991, following the end of the post-war communist control of the country. ' +
    'Today, the Warsaw Stock Exchange is the largest market in the region, with 374 companies listed.',
};
const tesla: AnswerPassage = {
  chunkId: 't1',
  documentId: 'tesla',
  text: 'Tesla was born on 10 July 1856 in the village of Smiljan. He later moved to New York.',
};

describe('extractiveAnswer', () => {
  it('prefers the sentence with the kind of phrase the question asks for', () => {
    const visits: AnswerPassage = { chunkId: 'v1', documentId: 'visits', text: 'Tesla visited Paris often. Tesla visited Paris in 1882.' };
    const answer = extractiveAnswer('When did Tesla visit Paris?', [visits], { maxSentences: 1 });
    expect(answer?.text).toBe('Tesla visited Paris in 1882.');
    expect(answer?.answerType).toBe('date');
    expect(answer?.sentences).toEqual([expect.objectContaining({ chunkId: 'v1', documentId: 'visits' })]);
    const who = extractiveAnswer(
      'Who founded the exchange in 1817?',
      [{ chunkId: 'x', documentId: 'x', text: 'The exchange was founded in 1817. The exchange was founded by Jan Kowalski in 1817.' }],
      { maxSentences: 1 },
    );
    expect(who?.text).toBe('The exchange was founded by Jan Kowalski in 1817.');
  });

  it('picks the sentence that covers the rarer question words', () => {
    const answer = extractiveAnswer('When was the stock exchange re-established in Warsaw?', [warsaw, tesla], { maxSentences: 1 });
    expect(answer?.sentences[0]?.chunkId).toBe('w1');
    expect(answer?.text).not.toContain('Tesla');
  });

  it('answers in at most two sentences, in passage order, saying where each came from', () => {
    const answer = extractiveAnswer('How many companies are listed on the Warsaw Stock Exchange?', [tesla, warsaw]);
    expect(answer?.sentences.length).toBeLessThanOrEqual(2);
    expect(answer?.text).toContain('374 companies');
    expect(answer?.sentences.every((sentence) => sentence.chunkId === 'w1')).toBe(true);
    const first = answer?.sentences[0]?.text ?? '';
    expect(warsaw.text.indexOf(first)).toBeLessThan(warsaw.text.indexOf(answer?.sentences[1]?.text ?? first) + 1);
  });

  it('splits Hindi at the danda and matches inflections and spelling variants', () => {
    const passage: AnswerPassage = {
      chunkId: 'h1',
      documentId: 'panthers',
      language: 'hi',
      text:
        'पैंथर्स की डिफ़ेन्स ने लीग में केवल 308 अंक दिए और छठे स्थान पर रहे। ' +
        'साथी लाइनमैन मारिओ एडिसन ने 6½ सैक जोड़े। ' +
        'कैरोलिना की सेकेंडरी में प्रो बाउल सुरक्षा में कर्ट कोलमैन थे।',
    };
    const answer = extractiveAnswer('पैंथर्स डिफ़ेंस ने कितने अंक दिए?', [passage], { maxSentences: 1 });
    expect(answer?.text).toBe('पैंथर्स की डिफ़ेन्स ने लीग में केवल 308 अंक दिए और छठे स्थान पर रहे।');
    expect(answer?.answerType).toBe('number');
  });

  it('says nothing when the passages do not cover the question', () => {
    expect(extractiveAnswer('What is the boiling point of mercury?', [warsaw, tesla])).toBeUndefined();
    expect(extractiveAnswer('What is it?', [warsaw])).toBeUndefined();
    expect(extractiveAnswer('When was Tesla born?', [])).toBeUndefined();
  });

  it('does not repeat a sentence that overlapping chunks share', () => {
    const overlapping: AnswerPassage = { ...tesla, chunkId: 't2', text: 'He later moved to New York. He worked for Edison there.' };
    const answer = extractiveAnswer('Did Tesla move to New York?', [tesla, overlapping]);
    const texts = answer?.sentences.map((sentence) => sentence.text) ?? [];
    expect(new Set(texts).size).toBe(texts.length);
  });
});

describe('notCoveredReply', () => {
  it('is localised', () => {
    expect(notCoveredReply('en')).toMatch(/documents/);
    expect(notCoveredReply('hi')).toMatch(/दस्तावेज़ों/);
  });
});
