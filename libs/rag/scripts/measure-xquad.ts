// In-process measurement of offline retrieval and extractive answering on
// XQuAD (SQuAD-format JSON). Each paragraph of the documents file is one
// document (title = article title), chunked like ingestion does; one
// organisation's HNSW index (offline hashing embedder) and BM25 index are
// built in memory, as a worker's index cache holds them; every question goes through hybrid
// retrieval and the extractive answerer. Prints, per language pair, hit@1,
// hit@5 and MRR@10 at paragraph level (the gold paragraph holds the
// question's id) and answer recall (the answer contains a gold answer,
// case-insensitively).
//
//   npx tsx libs/rag/scripts/measure-xquad.ts [--data DIR] [--pairs en-en,hi-hi,en-hi]
//     [--top-k 5] [--answer-passages K] [--min-overlap 0] [--chunk-size 1000] [--chunk-overlap 200]
//     [--vector-weight W] [--keyword-weight 1] [--rrf-k 60] [--k1 1.2] [--b 0.75]
//     [--title-weight 0.5] [--dimensions 512] [--articles FROM-TO] [--json OUT]
//     [--misses N] [--breakdown]
//
// The answerer gets the first --answer-passages (default: all top-k) of the
// top-k chunks (RETRIEVAL_TOP_K) that share at least --min-overlap of the
// question's content words (as the pipeline's relevance filter does);
// the ranking metrics use the distinct paragraphs of the top 30 chunks. The
// vector weight defaults to the retriever's (LEXICAL_VECTOR_WEIGHT for the
// offline embedder).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnswerPassage } from '../src/answering/extractive-answerer.ts';
import { extractiveAnswer } from '../src/answering/extractive-answerer.ts';
import { chunkDocument } from '../src/chunking.ts';
import { HybridRetriever } from '../src/retrieval/hybrid-retriever.ts';
import { IncrementalKeywordIndex } from '../src/retrieval/incremental-keyword-index.ts';
import type { KeywordChunk } from '../src/retrieval/keyword-index.ts';
import { keywordTokens } from '../src/retrieval/keyword-index.ts';
import { MemoryVectorIndex } from '../src/retrieval/memory-vector-index.ts';
import { OfflineHashingEmbedder } from '../src/retrieval/offline-hashing-embedder.ts';

interface SquadFile {
  data: { title: string; paragraphs: { context: string; qas: { id: string; question: string; answers: { text: string }[] }[] }[] }[];
}

interface Paragraph {
  index: number;
  title: string;
  text: string;
  questionIds: string[];
}

interface Question {
  id: string;
  question: string;
  answers: string[];
}

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/eval/xquad' },
    pairs: { type: 'string', default: 'en-en,hi-hi,en-hi' },
    'top-k': { type: 'string', default: '5' },
    'answer-passages': { type: 'string' },
    'min-overlap': { type: 'string', default: '0' },
    'chunk-size': { type: 'string', default: '1000' },
    'chunk-overlap': { type: 'string', default: '200' },
    'vector-weight': { type: 'string' },
    'keyword-weight': { type: 'string', default: '1' },
    'rrf-k': { type: 'string', default: '60' },
    k1: { type: 'string', default: '1.2' },
    b: { type: 'string', default: '0.75' },
    'title-weight': { type: 'string', default: '0.5' },
    dimensions: { type: 'string', default: '512' },
    json: { type: 'string' },
    misses: { type: 'string', default: '0' },
    breakdown: { type: 'boolean', default: false },
    /** 0-based inclusive range of articles to use, e.g. 0-11 (default: all). */
    articles: { type: 'string' },
  },
});
const num = (name: keyof typeof values): number => Number(values[name]);

function paragraphsOf(file: SquadFile): Paragraph[] {
  return file.data
    .flatMap((article) =>
      article.paragraphs.map((paragraph) => ({
        title: article.title,
        text: paragraph.context,
        questionIds: paragraph.qas.map((qa) => qa.id),
      })),
    )
    .map((paragraph, index) => ({ ...paragraph, index }));
}

function questionsOf(file: SquadFile): Question[] {
  return file.data.flatMap((article) =>
    article.paragraphs.flatMap((paragraph) =>
      paragraph.qas.map((qa) => ({ id: qa.id, question: qa.question, answers: qa.answers.map((answer) => answer.text) })),
    ),
  );
}

async function load(language: string): Promise<SquadFile> {
  const file = JSON.parse(await readFile(join(values.data, `xquad.${language}.dev.json`), 'utf8')) as SquadFile;
  if (!values.articles) return file;
  const [from, to] = values.articles.split('-').map(Number);
  return { data: file.data.slice(from, (to ?? from ?? 0) + 1) };
}

interface QuestionResult {
  id: string;
  /** Paragraph indexes (0-based, reading order) of the ranked chunks, best first. */
  retrieved: number[];
  answer: string;
}

interface PairResult {
  pair: string;
  questions: number;
  hit_at_1: number;
  hit_at_5: number;
  /** The gold paragraph among the paragraphs of the top-k chunks only (what the answerer and the sources see). */
  hit_in_top_k_chunks: number;
  mrr_at_10: number;
  answer_recall: number;
  ms_per_question: number;
  results: QuestionResult[];
}

async function measure(questionLanguage: string, documentLanguage: string): Promise<PairResult> {
  const paragraphs = paragraphsOf(await load(documentLanguage));
  const questions = questionsOf(await load(questionLanguage));
  const goldOf = new Map<string, number>();
  for (const paragraph of paragraphs) for (const id of paragraph.questionIds) goldOf.set(id, paragraph.index);

  const chunks: (KeywordChunk & { paragraph: number })[] = paragraphs.flatMap((paragraph) =>
    chunkDocument({ text: paragraph.text, format: 'text' }, { maxChars: num('chunk-size'), overlapChars: num('chunk-overlap') }).map(
      (chunk) => ({
        chunkId: `p${paragraph.index}-c${chunk.index}`,
        documentId: `p${paragraph.index}`,
        text: chunk.text,
        title: paragraph.title,
        paragraph: paragraph.index,
      }),
    ),
  );
  const byChunk = new Map(chunks.map((chunk) => [chunk.chunkId, chunk]));

  const embedder = new OfflineHashingEmbedder({ dimensions: num('dimensions') });
  const vectorIndex = new MemoryVectorIndex(embedder.dimensions);
  const keywordIndex = new IncrementalKeywordIndex({ k1: num('k1'), b: num('b'), titleWeight: num('title-weight') });
  const org = 'xquad';
  const vectors = await embedder.embed(chunks.map((chunk) => `${chunk.title}\n${chunk.text}`));
  const byDocument = new Map<string, number[]>();
  chunks.forEach((chunk, i) => {
    byDocument.set(chunk.documentId, [...(byDocument.get(chunk.documentId) ?? []), i]);
  });
  for (const [documentId, positions] of byDocument) {
    keywordIndex.addDocument(
      documentId,
      positions.map((i) => chunks[i] as KeywordChunk),
    );
    vectorIndex.addDocument(
      documentId,
      positions.map((i) => ({ chunkId: (chunks[i] as KeywordChunk).chunkId, vector: vectors[i] as Float32Array })),
    );
  }
  const retriever = new HybridRetriever({
    embedder,
    vectorStore: { search: async (_organisationId, vector, k) => vectorIndex.search(vector, k) },
    keywordSearcher: { search: async (_organisationId, query, k) => keywordIndex.search(query, k) },
    topK: Math.max(num('top-k'), 30),
    rrfK: num('rrf-k'),
    ...(values['vector-weight'] === undefined ? {} : { vectorWeight: num('vector-weight') }),
    keywordWeight: num('keyword-weight'),
  });

  let hit1 = 0;
  let hit5 = 0;
  let hitTopK = 0;
  let reciprocal = 0;
  let recalled = 0;
  let misses = num('misses');
  const byType = new Map<string, [number, number]>();
  const results: QuestionResult[] = [];
  const started = performance.now();
  for (const question of questions) {
    const gold = goldOf.get(question.id);
    const hits = await retriever.retrieve(org, question.question);
    // Paragraph ranking: distinct paragraphs of the ranked chunks.
    const ranked = [...new Set(hits.map((hit) => byChunk.get(hit.chunkId)?.paragraph ?? -1))];
    const rank = gold === undefined ? 0 : ranked.indexOf(gold) + 1;
    if (rank === 1) hit1 += 1;
    if (rank >= 1 && rank <= 5) hit5 += 1;
    if (hits.slice(0, num('top-k')).some((hit) => byChunk.get(hit.chunkId)?.paragraph === gold)) hitTopK += 1;
    if (rank >= 1 && rank <= 10) reciprocal += 1 / rank;

    const queryWords = [...new Set(keywordTokens(question.question))];
    const passages: AnswerPassage[] = hits
      .slice(0, num('top-k'))
      .map((hit) => {
        const chunk = byChunk.get(hit.chunkId);
        return { chunkId: hit.chunkId, documentId: hit.documentId, text: chunk?.text ?? '', title: chunk?.title ?? '' };
      })
      .filter((passage) => {
        const words = new Set(keywordTokens(`${passage.title} ${passage.text}`));
        const share = queryWords.length === 0 ? 0 : queryWords.filter((word) => words.has(word)).length / queryWords.length;
        return share >= num('min-overlap');
      })
      .slice(0, values['answer-passages'] === undefined ? num('top-k') : num('answer-passages'));
    const result = extractiveAnswer(question.question, passages);
    const answer = result?.text ?? '';
    const correct = question.answers.some((gold) => answer.toLowerCase().includes(gold.toLowerCase()));
    const type = result?.answerType ?? 'none';
    const entry = byType.get(type) ?? [0, 0];
    entry[0] += 1;
    if (correct) entry[1] += 1;
    byType.set(type, entry);
    results.push({ id: question.id, retrieved: ranked.slice(0, 10), answer });
    if (correct) recalled += 1;
    else if (misses-- > 0) {
      console.log(`MISS ${question.id} rank=${rank} q=${question.question}\n  gold=${question.answers.join(' | ')}\n  answer=${answer}\n`);
    }
  }
  const n = questions.length;
  if (values.breakdown) console.log([...byType].map(([t, [c, r]]) => `${t}: ${r}/${c}`).join('  '));
  return {
    pair: `${questionLanguage}->${documentLanguage}`,
    questions: n,
    hit_at_1: hit1 / n,
    hit_at_5: hit5 / n,
    hit_in_top_k_chunks: hitTopK / n,
    mrr_at_10: reciprocal / n,
    answer_recall: recalled / n,
    ms_per_question: (performance.now() - started) / n,
    results,
  };
}

const results: PairResult[] = [];
for (const pair of values.pairs.split(',')) {
  const [q, d] = pair.split('-');
  if (!q || !d) throw new Error(`bad pair ${pair}`);
  results.push(await measure(q, d));
}
const f = (x: number) => x.toFixed(3);
console.log(`pair      questions  hit@1  hit@5  MRR@10  answer_recall  gold-in-top-${num('top-k')}-chunks  ms/question`);
for (const r of results) {
  console.log(
    `${r.pair.padEnd(9)} ${String(r.questions).padStart(9)}  ${f(r.hit_at_1)}  ${f(r.hit_at_5)}  ${f(r.mrr_at_10)}   ${f(r.answer_recall)}          ${f(r.hit_in_top_k_chunks)}              ${r.ms_per_question.toFixed(1)}`,
  );
}
if (values.json) await writeFile(values.json, JSON.stringify(results, null, 2));
