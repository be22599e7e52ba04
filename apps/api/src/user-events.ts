import type { Chat, UserFrame } from '@ragstream/protocol';
import { userRoom } from '@ragstream/protocol';

/** What UserEvents needs of the Socket.IO namespace: a broadcast to a room, cluster-wide through the Redis adapter. */
export interface UserRoomTarget {
  to(room: string): { emit(event: string, frame: UserFrame): boolean };
}

/**
 * The one place that tells all of a user's connections, on every node, that their chat list
 * changed or an answer started. Callers emit after their store write has succeeded.
 */
export class UserEvents {
  private target: UserRoomTarget | undefined;

  /** The Socket.IO gateway is attached after the routes and the service exist, so it is bound late. */
  attach(target: UserRoomTarget): void {
    this.target = target;
  }

  chatCreated(chat: Chat): void {
    this.emit(chat.userId, { mt: 'chat_created', chat });
  }

  chatRenamed(chat: Chat): void {
    this.emit(chat.userId, { mt: 'chat_renamed', chat });
  }

  chatDeleted(userId: string, chatId: string): void {
    this.emit(userId, { mt: 'chat_deleted', chatId });
  }

  answerStarted(userId: string, chatId: string, generationId: string): void {
    this.emit(userId, { mt: 'answer_started', chatId, generationId });
  }

  private emit(userId: string, frame: UserFrame): void {
    if (!this.target) throw new Error('UserEvents used before the Socket.IO gateway was attached');
    this.target.to(userRoom(userId)).emit(frame.mt, frame);
  }
}
