import { z } from 'zod';

/** The job catalog: every queue, its job name and its payload schema, parsed when enqueued and when run. */
export const GENERATE_QUEUE = 'generate';
export const GENERATE_JOB_NAME = 'generate-answer';

export const generateJobSchema = z.object({
  chatId: z.string(),
  userId: z.string(),
  userMessageId: z.string(),
  generationId: z.string(),
  text: z.string(),
  timezone: z.string().optional(),
  selectedLanguage: z.string().optional(),
  enqueuedAt: z.number().int(),
});
export type GenerateJobData = z.infer<typeof generateJobSchema>;

/** One generation per user message: the job id (and generation id) is derived from it, so a resend cannot start a second answer. */
export function generationIdFor(userMessageId: string): string {
  return `gen-${userMessageId}`;
}
