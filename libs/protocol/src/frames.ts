import { z } from 'zod';
import { botStatusSchema, sourceSchema } from './chat.ts';
import type { ErrorCode } from './error-codes.ts';
import { MAX_CLIENT_MESSAGE_ID_LENGTH, utf8Bytes } from './limits.ts';

/* Client -> server frames (the seed's message types). */

export const messageUploadFrameSchema = z.object({
  mt: z.literal('message_upload'),
  message: z.string().min(1, 'message must not be empty'),
  /** Required without authentication; with it, the token's `sub`, which this may repeat but not contradict. */
  userId: z.string().min(1).max(200).optional(),
  timezone: z.string().max(64).optional(),
  selectedLanguage: z.string().min(1).max(16).optional(),
  clientMessageId: z.string().min(1).max(MAX_CLIENT_MESSAGE_ID_LENGTH).optional(),
});
export type MessageUploadFrame = z.infer<typeof messageUploadFrameSchema>;

export const stopFrameSchema = z.object({ mt: z.literal('stop') });
export type StopFrame = z.infer<typeof stopFrameSchema>;

export const CLIENT_FRAME_TYPES = ['message_upload', 'stop'] as const;
export const clientFrameSchema = z.discriminatedUnion('mt', [messageUploadFrameSchema, stopFrameSchema]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/* Server -> client frames. */

export const messageUploadConfirmFrameSchema = z.object({
  mt: z.literal('message_upload_confirm'),
  chatId: z.string(),
  messageId: z.string(),
  clientMessageId: z.string().optional(),
  generationId: z.string().optional(),
  duplicate: z.boolean().optional(),
});
export type MessageUploadConfirmFrame = z.infer<typeof messageUploadConfirmFrameSchema>;

/** Fields every frame of one generation carries; `seq` is contiguous from 1 across attempts. */
const generationFields = {
  chatId: z.string(),
  generationId: z.string(),
  attempt: z.number().int().positive(),
  seq: z.number().int().positive(),
  /**
   * Only from workers with FRAME_APPEND_TIMESTAMPS=1 (load tests): Redis's clock, in ms since
   * the epoch, when the frame was appended, so that a client on the same machine measures delivery.
   */
  appendedAt: z.number().int().nonnegative().optional(),
};

/** First frame of every attempt: a higher `attempt` than seen tells clients to drop earlier text. */
export const typingIndicatorFrameSchema = z.object({
  mt: z.literal('typing_indicator'),
  ...generationFields,
  replyTo: z.string(),
});
export type TypingIndicatorFrame = z.infer<typeof typingIndicatorFrameSchema>;

export const ANSWER_STAGES = ['language', 'searching', 'generating'] as const;
export const answerStageSchema = z.enum(ANSWER_STAGES);
export type AnswerStage = z.infer<typeof answerStageSchema>;

/** Progress of the answer pipeline, so that clients can show what it is doing. */
export const botStatusFrameSchema = z.object({
  mt: z.literal('chat_message_bot_status'),
  ...generationFields,
  stage: answerStageSchema,
  language: z.string().optional(),
});
export type BotStatusFrame = z.infer<typeof botStatusFrameSchema>;

export const botPartialFrameSchema = z.object({
  mt: z.literal('chat_message_bot_partial'),
  ...generationFields,
  delta: z.string(),
});
export type BotPartialFrame = z.infer<typeof botPartialFrameSchema>;

export const botCompleteFrameSchema = z.object({
  mt: z.literal('chat_message_bot_complete'),
  ...generationFields,
  status: botStatusSchema,
  messageId: z.string(),
  text: z.string(),
  sources: z.array(sourceSchema),
  /** false when the answer does not rest on the organisation's documents (general model answer, auto-reply). */
  grounded: z.boolean().optional(),
  language: z.string().optional(),
  error: z.string().optional(),
});
export type BotCompleteFrame = z.infer<typeof botCompleteFrameSchema>;

export const errorFrameSchema = z.object({
  mt: z.literal('error'),
  code: z.string(),
  message: z.string(),
  clientMessageId: z.string().optional(),
  /** A limit that was hit (`rate_limited`, `busy`, ...): seconds until trying again can succeed. */
  retryAfter: z.number().int().nonnegative().optional(),
  /** `quota_exceeded`: when the exhausted quota's period ends (ISO 8601, UTC). */
  resetAt: z.iso.datetime().optional(),
});
export type ErrorFrame = z.infer<typeof errorFrameSchema>;

/** What an `error` frame (and a REST error body) may carry besides its code and message. */
export interface ErrorDetails {
  retryAfter?: number | undefined;
  resetAt?: string | undefined;
}

/**
 * The answer to a resume (`generationId`, `lastSeq`) that the server cannot serve: the
 * generation is unknown or its frame log expired. The client reloads the chat's messages
 * over REST instead of waiting; the connection stays usable.
 */
export const resumeUnavailableFrameSchema = z.object({
  mt: z.literal('resume_unavailable'),
  chatId: z.string(),
  generationId: z.string(),
});
export type ResumeUnavailableFrame = z.infer<typeof resumeUnavailableFrameSchema>;

/**
 * Sent just before a node that is shutting down (a rolling restart) ends the connection:
 * the client reconnects, to any node, and resumes its unfinished answer with
 * `generationId` and `lastSeq`.
 */
export const serverShutdownFrameSchema = z.object({
  mt: z.literal('server_shutdown'),
  chatId: z.string(),
});
export type ServerShutdownFrame = z.infer<typeof serverShutdownFrameSchema>;

export const generationFrameSchema = z.discriminatedUnion('mt', [
  typingIndicatorFrameSchema,
  botStatusFrameSchema,
  botPartialFrameSchema,
  botCompleteFrameSchema,
]);
export type GenerationFrame = z.infer<typeof generationFrameSchema>;

export const serverFrameSchema = z.discriminatedUnion('mt', [
  messageUploadConfirmFrameSchema,
  typingIndicatorFrameSchema,
  botStatusFrameSchema,
  botPartialFrameSchema,
  botCompleteFrameSchema,
  errorFrameSchema,
  resumeUnavailableFrameSchema,
  serverShutdownFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

/** A generation frame before the frame log assigns its `seq`. */
export type UnsequencedFrame = GenerationFrame extends infer F ? (F extends GenerationFrame ? Omit<F, 'seq'> : never) : never;

export function errorFrame(code: ErrorCode, message: string, clientMessageId?: string, details: ErrorDetails = {}): ErrorFrame {
  return {
    mt: 'error',
    code,
    message,
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
    ...(details.retryAfter === undefined ? {} : { retryAfter: details.retryAfter }),
    ...(details.resetAt === undefined ? {} : { resetAt: details.resetAt }),
  };
}

export type ParsedClientFrame = { ok: true; frame: ClientFrame } | { ok: false; error: ErrorFrame };

/**
 * Validates one inbound frame (already JSON-decoded). The message size limit is
 * checked here so that every transport rejects oversized text the same way.
 */
export function parseClientFrame(input: unknown, maxMessageBytes: number): ParsedClientFrame {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: errorFrame('invalid_frame', 'a frame must be a JSON object with an "mt" field') };
  }
  const record = input as Record<string, unknown>;
  const clientMessageId = typeof record.clientMessageId === 'string' ? record.clientMessageId : undefined;
  const mt = record.mt;
  if (typeof mt !== 'string' || !(CLIENT_FRAME_TYPES as readonly string[]).includes(mt)) {
    return {
      ok: false,
      error: errorFrame(
        'unknown_message_type',
        `unknown mt ${JSON.stringify(mt ?? null)}; expected one of ${CLIENT_FRAME_TYPES.join(', ')}`,
        clientMessageId,
      ),
    };
  }
  if (mt === 'message_upload' && typeof record.message === 'string' && utf8Bytes(record.message) > maxMessageBytes) {
    return {
      ok: false,
      error: errorFrame(
        'message_too_large',
        `message is ${utf8Bytes(record.message)} bytes of UTF-8; the limit is ${maxMessageBytes}`,
        clientMessageId,
      ),
    };
  }
  const parsed = clientFrameSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, error: errorFrame('invalid_frame', describeIssues(parsed.error), clientMessageId) };
  }
  return { ok: true, frame: parsed.data };
}

/** Decodes and validates a text frame (raw WebSocket). */
export function parseClientFrameText(text: string, maxMessageBytes: number): ParsedClientFrame {
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    return { ok: false, error: errorFrame('invalid_json', 'frame is not valid JSON') };
  }
  return parseClientFrame(decoded, maxMessageBytes);
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}
