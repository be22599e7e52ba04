import { ApiError } from './api-error.ts';

/** What the registry needs of a ChatConnection; typed here so that the two files do not import each other. */
export interface RegisteredConnection {
  disconnect(reason: 'shutting_down'): Promise<void>;
}

/**
 * The node's open client connections, on every transport, so that shutdown can end them
 * all and wait until each has let go of its chat before Redis and the stores close.
 */
export class ConnectionRegistry {
  private readonly open = new Set<RegisteredConnection>();
  private accepting = true;

  /** Throws ApiError('unavailable') once the node is shutting down. */
  add(connection: RegisteredConnection): void {
    if (!this.accepting) throw new ApiError('unavailable', 'the server is shutting down; connect again');
    this.open.add(connection);
  }

  delete(connection: RegisteredConnection): void {
    this.open.delete(connection);
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /** Ends every client's connection and resolves when all of them have closed. */
  async closeAll(): Promise<void> {
    this.stopAccepting();
    await Promise.all([...this.open].map((connection) => connection.disconnect('shutting_down')));
  }
}
