import { readFileSync } from 'node:fs';
import { z } from 'zod';

const squadSchema = z.object({
  data: z.array(
    z.object({
      title: z.string(),
      paragraphs: z.array(
        z.object({
          context: z.string(),
          qas: z.array(
            z.object({
              id: z.string(),
              question: z.string(),
              answers: z.array(z.object({ text: z.string() })),
            }),
          ),
        }),
      ),
    }),
  ),
});

export interface Paragraph {
  /** 0-based position in reading order. */
  index: number;
  title: string;
  text: string;
  questionIds: string[];
}

export interface Question {
  id: string;
  text: string;
  answers: string[];
}

export interface SquadFile {
  paragraphs: Paragraph[];
  questions: Question[];
}

/** Reads a SQuAD v1.1 JSON file (as XQuAD ships it). */
export function readSquad(path: string): SquadFile {
  const parsed = squadSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const paragraphs: Paragraph[] = [];
  const questions: Question[] = [];
  for (const article of parsed.data) {
    for (const paragraph of article.paragraphs) {
      paragraphs.push({
        index: paragraphs.length,
        title: article.title,
        text: paragraph.context,
        questionIds: paragraph.qas.map((q) => q.id),
      });
      for (const qa of paragraph.qas) questions.push({ id: qa.id, text: qa.question, answers: qa.answers.map((a) => a.text) });
    }
  }
  return { paragraphs, questions };
}
