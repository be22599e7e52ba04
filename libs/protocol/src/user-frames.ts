import { z } from 'zod';
import { chatSchema } from './chat.ts';

/*
 * Server -> client frames of the user-level channel: every Socket.IO connection that names
 * its user hears them, on whichever node it is, so that all of a user's tabs keep the same
 * chat list. They are emitted once into the user's room through the Socket.IO Redis adapter
 * and are not logged or numbered: a client that missed some reloads the list over REST.
 */

/** The Socket.IO room of one user's connections, on every node. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}

export const chatCreatedFrameSchema = z.object({ mt: z.literal('chat_created'), chat: chatSchema });
export type ChatCreatedFrame = z.infer<typeof chatCreatedFrameSchema>;

export const chatRenamedFrameSchema = z.object({ mt: z.literal('chat_renamed'), chat: chatSchema });
export type ChatRenamedFrame = z.infer<typeof chatRenamedFrameSchema>;

export const chatDeletedFrameSchema = z.object({ mt: z.literal('chat_deleted'), chatId: z.string() });
export type ChatDeletedFrame = z.infer<typeof chatDeletedFrameSchema>;

/** A message of the chat was admitted for an answer; its frames then come on the chat's own connections. */
export const answerStartedFrameSchema = z.object({
  mt: z.literal('answer_started'),
  chatId: z.string(),
  generationId: z.string(),
});
export type AnswerStartedFrame = z.infer<typeof answerStartedFrameSchema>;

export const USER_FRAME_TYPES = ['chat_created', 'chat_renamed', 'chat_deleted', 'answer_started'] as const;
export const userFrameSchema = z.discriminatedUnion('mt', [
  chatCreatedFrameSchema,
  chatRenamedFrameSchema,
  chatDeletedFrameSchema,
  answerStartedFrameSchema,
]);
export type UserFrame = z.infer<typeof userFrameSchema>;

export function isUserFrameType(mt: string): mt is UserFrame['mt'] {
  return (USER_FRAME_TYPES as readonly string[]).includes(mt);
}
