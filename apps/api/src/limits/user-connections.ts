import type { Presence } from '@ragstream/realtime';
import { PRESENCE_ENTRY_TTL_MS } from '@ragstream/realtime';
import { ApiError } from '../api-error.ts';

/** A place may free up when a connection closes, or when a crashed node's entry expires. */
const CONNECTION_RETRY_AFTER_SECONDS = Math.ceil(PRESENCE_ENTRY_TTL_MS / 1000);

/** Open connections per user across every node and transport, within CONNECTIONS_PER_USER. */
export class UserConnections {
  constructor(
    private readonly presence: Presence,
    readonly limit: number,
  ) {}

  /** Counts a new connection of the user; throws ApiError('too_many_connections') past the limit. */
  async open(userId: string): Promise<void> {
    if (await this.presence.connectedWithin(userId, this.limit)) return;
    throw new ApiError('too_many_connections', `you have ${this.limit} open connections, the most allowed; close one first`, {
      retryAfter: CONNECTION_RETRY_AFTER_SECONDS,
    });
  }

  close(userId: string): Promise<void> {
    return this.presence.disconnected(userId);
  }

  /** Removes this node's counts (shutdown). */
  stop(): Promise<void> {
    return this.presence.stop();
  }
}
