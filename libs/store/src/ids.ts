import { isObjectId } from '@ragstream/protocol';

/** Writes refuse a malformed chat id (callers validate ids first); reads treat one as absent instead. */
export function assertChatId(chatId: string): void {
  if (!isObjectId(chatId)) throw new TypeError(`chatId is not a 24-hex-digit id: ${JSON.stringify(chatId)}`);
}
