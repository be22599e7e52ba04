import type { GenerateJobData } from '@ragstream/protocol';

/** The ids that every log line about a generation carries, so that one `grep <traceId>` follows its message. */
export function generationLogFields(data: GenerateJobData): Record<string, string> {
  return {
    chatId: data.chatId,
    generationId: data.generationId,
    messageId: data.userMessageId,
    // Jobs queued before traces existed have none.
    ...(data.traceId === undefined ? {} : { traceId: data.traceId }),
  };
}
