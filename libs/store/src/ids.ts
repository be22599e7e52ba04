import { isObjectId } from '@ragstream/protocol';
import { ObjectId } from 'bson';

/** Writes refuse a malformed id (callers validate ids first); reads treat one as absent instead. */
export function assertObjectId(name: string, value: string): void {
  if (!isObjectId(value)) throw new TypeError(`${name} is not a 24-hex-digit id: ${JSON.stringify(value)}`);
}

export function assertChatId(chatId: string): void {
  assertObjectId('chatId', chatId);
}

/** A new message id in the form every store accepts, for callers that announce an id before storing. */
export function newMessageId(): string {
  return new ObjectId().toHexString();
}
