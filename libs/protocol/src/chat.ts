import { z } from 'zod';

export const MESSAGE_ROLES = ['user', 'bot'] as const;
export const BOT_STATUSES = ['complete', 'stopped', 'failed'] as const;

export const roleSchema = z.enum(MESSAGE_ROLES);
export const botStatusSchema = z.enum(BOT_STATUSES);
export type MessageRole = z.infer<typeof roleSchema>;
export type BotStatus = z.infer<typeof botStatusSchema>;

/** A cited passage of one of the organisation's documents. */
export const sourceSchema = z.object({
  documentId: z.string(),
  chunkId: z.string(),
  title: z.string().optional(),
  score: z.number(),
  excerpt: z.string().optional(),
  /** The answer was drawn from this passage (the others were retrieved but not used). */
  cited: z.boolean().optional(),
});
export type Source = z.infer<typeof sourceSchema>;

export const chatSchema = z.object({
  id: z.string(),
  userId: z.string(),
  organisationId: z.string(),
  title: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Chat = z.infer<typeof chatSchema>;

export const messageSchema = z.object({
  id: z.string(),
  chatId: z.string(),
  role: roleSchema,
  text: z.string(),
  status: botStatusSchema.optional(),
  generationId: z.string().optional(),
  clientMessageId: z.string().optional(),
  sources: z.array(sourceSchema).optional(),
  /** Bot messages: false for auto-replies and answers not based on the organisation's documents. */
  grounded: z.boolean().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ChatMessage = z.infer<typeof messageSchema>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
