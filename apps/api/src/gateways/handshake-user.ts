import { ApiError } from '../api-error.ts';

/** The same bounds as `message_upload`'s `userId`. */
const MAX_USER_ID_LENGTH = 200;

/**
 * The `userId` a Socket.IO handshake names, or undefined when it names none. Without
 * authentication it is the connection's user, as in `message_upload`; with authentication the
 * user is the token's `sub`, which this may repeat but not contradict (see `actingUser`).
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
