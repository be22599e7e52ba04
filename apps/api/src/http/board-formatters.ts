import { deleteDocumentJobSchema, generateJobSchema, ingestJobSchema } from '@ragstream/protocol';

/** Enough of the user's message to recognise it; the board is no place to read whole messages. */
export const MESSAGE_PREVIEW_CHARS = 120;

/** What Bull Board hands a name formatter: the job as BullMQ serialises it. */
export interface BoardJob {
  name?: unknown;
  data?: unknown;
  attemptsStarted?: unknown;
}

/** The generation as an operator reads it: whose chat, which answer, and a preview of the question. */
export function generationBoardData(data: unknown): Record<string, unknown> {
  const parsed = generateJobSchema.safeParse(data);
  if (!parsed.success) return unreadable(parsed.error.issues);
  const { text, enqueuedAt, ...ids } = parsed.data;
  return {
    ...ids,
    messagePreview: preview(text),
    enqueuedAt: new Date(enqueuedAt).toISOString(),
  };
}

export function generationBoardName(job: BoardJob): string {
  const parsed = generateJobSchema.safeParse(job.data);
  const chat = parsed.success ? ` chat ${parsed.data.chatId}` : '';
  return `${String(job.name)}${chat} attempt ${Number(job.attemptsStarted ?? 0)}`;
}

/** Ingestion payloads hold ids only; parsing keeps it so, should a payload ever carry more. */
export function ingestionBoardData(data: unknown): Record<string, unknown> {
  const ingest = ingestJobSchema.safeParse(data);
  if (ingest.success) return ingest.data;
  const removal = deleteDocumentJobSchema.safeParse(data);
  return removal.success ? removal.data : unreadable(removal.error.issues);
}

export function ingestionBoardName(job: BoardJob): string {
  const data = ingestionBoardData(job.data);
  return typeof data.documentId === 'string' ? `${String(job.name)} document ${data.documentId}` : String(job.name);
}

function preview(text: string): string {
  // By code points, so a cut never leaves half of a surrogate pair (an emoji, say).
  const chars = Array.from(text);
  return chars.length <= MESSAGE_PREVIEW_CHARS ? text : `${chars.slice(0, MESSAGE_PREVIEW_CHARS).join('')}…`;
}

/** A payload that fits no schema is shown by its faults, not dumped: it could hold anything. */
function unreadable(issues: readonly { path: readonly PropertyKey[]; message: string }[]): Record<string, unknown> {
  return { unreadable: issues.map((issue) => `${issue.path.map(String).join('.') || '(data)'}: ${issue.message}`) };
}
