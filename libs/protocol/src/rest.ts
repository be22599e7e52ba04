import { z } from 'zod';
import { roleSchema } from './chat.ts';
import { DEFAULT_PAGE_LIMIT, MAX_CLIENT_MESSAGE_ID_LENGTH, MAX_PAGE_LIMIT } from './limits.ts';

export const createChatBodySchema = z.object({
  /** Required without authentication; with it, the token's `sub`, which this may repeat but not contradict. */
  userId: z.string().min(1).max(200).optional(),
  title: z.string().max(500).optional(),
  /** Unset: the default organisation. */
  organisationId: z.string().optional(),
});
export type CreateChatBody = z.infer<typeof createChatBodySchema>;

export const updateChatBodySchema = z.object({
  title: z.string().max(500),
});
export type UpdateChatBody = z.infer<typeof updateChatBodySchema>;

export const createMessageBodySchema = z.object({
  role: roleSchema.default('user'),
  text: z.string().min(1, 'text must not be empty'),
  userId: z.string().min(1).max(200).optional(),
  clientMessageId: z.string().min(1).max(MAX_CLIENT_MESSAGE_ID_LENGTH).optional(),
  generate: z.boolean().default(false),
  timezone: z.string().max(64).optional(),
  selectedLanguage: z.string().min(1).max(16).optional(),
});
export type CreateMessageBody = z.infer<typeof createMessageBodySchema>;

export const updateMessageBodySchema = z.object({
  text: z.string().min(1),
});
export type UpdateMessageBody = z.infer<typeof updateMessageBodySchema>;

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT),
  cursor: z.string().min(1).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export const generatingStatusSchema = z.object({
  generationId: z.string(),
  attempt: z.number().int(),
  seq: z.number().int(),
});
export type GeneratingStatus = z.infer<typeof generatingStatusSchema>;

export const chatStatusSchema = z.object({
  chatId: z.string(),
  connections: z.number().int(),
  generating: generatingStatusSchema.nullable(),
});
export type ChatStatus = z.infer<typeof chatStatusSchema>;

/** Resume parameters: Socket.IO handshake `auth`, WebSocket query string. */
export const resumeParamsSchema = z.object({
  generationId: z.string().min(1).max(200).optional(),
  lastSeq: z.coerce.number().int().min(0).optional(),
});
export type ResumeParams = z.infer<typeof resumeParamsSchema>;

/** SSE `Last-Event-ID` is `<generationId>:<seq>`. */
export function parseEventId(value: string): ResumeParams | undefined {
  const at = value.lastIndexOf(':');
  if (at <= 0) return undefined;
  const seq = Number(value.slice(at + 1));
  if (!Number.isInteger(seq) || seq < 0) return undefined;
  return { generationId: value.slice(0, at), lastSeq: seq };
}

export function formatEventId(generationId: string, seq: number): string {
  return `${generationId}:${seq}`;
}

/** `GET /usage`: until requests carry a verified token, the caller names itself. */
export const usageQuerySchema = z.object({
  userId: z.string().min(1).max(200),
});
export type UsageQuery = z.infer<typeof usageQuerySchema>;

/** Model tokens counted in one quota period (a UTC day or month), with its quota. */
export const periodUsageSchema = z.object({
  /** The period's first day, `2025-06-01` (day) or `2025-06` (month). */
  period: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
  /** The quota on `totalTokens`; null when there is none. */
  limit: z.number().int().positive().nullable(),
  /** When the period ends and its count starts again from 0 (ISO 8601, UTC). */
  resetAt: z.iso.datetime(),
});
export type PeriodUsage = z.infer<typeof periodUsageSchema>;

/** `GET /usage` (a user's own) and `GET /organisations/:id/usage` (admins). */
export const usageReportSchema = z.object({
  scope: z.enum(['user', 'organisation']),
  id: z.string(),
  day: periodUsageSchema,
  month: periodUsageSchema,
  answersInProgress: z.object({
    count: z.number().int().nonnegative(),
    limit: z.number().int().positive().nullable(),
  }),
});
export type UsageReport = z.infer<typeof usageReportSchema>;
