import { ApiError } from '../api-error.ts';

/** The same bounds as `message_upload`'s `userId`. */
const MAX_USER_ID_LENGTH = 200;

/**
 * The user a Socket.IO connection speaks for, or undefined when it names none. Today the
 * client states it (`userId` in the handshake), as it does in `message_upload`; this is
 * the one place that will read it from a verified token instead.
 * Throws ApiError('invalid_query') for a userId that is not a non-empty string.
 */
export function handshakeUser(auth: Record<string, unknown>): string | undefined {
  const userId = auth.userId;
  if (userId === undefined) return undefined;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw new ApiError('invalid_query', `userId must be a string of 1 to ${MAX_USER_ID_LENGTH} characters`);
  }
  return userId;
}
