import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './redis-connection.ts';

/**
 * Lets the commands a process issues on one connection within one turn of the event loop
 * leave in one socket write. A worker's answers each flush on their own timer, and
 * timers due together run in one turn; one write (and one read on Redis's side) for all of
 * them costs a fraction of a write per command. A pipeline would do the same, but ioredis
 * copies every script defined on the connection into each pipeline (BullMQ's too), which
 * costs more than it saves. The writes are held until the turn's check phase
 * (setImmediate), so that commands issued from promise callbacks in the turn join them.
 * On a Cluster, each master's connection is held.
 */
export class CoalescedWrites {
  private held = false;

  constructor(private readonly redis: RedisClient) {}

  /** Holds this turn's writes on the connection, if it is connected; call before issuing a command. */
  hold(): void {
    if (this.held) return;
    const connections = this.redis.isCluster ? (this.redis as Cluster).nodes('master') : [this.redis as Redis];
    const streams = connections.filter((connection) => connection.status === 'ready').map((connection) => connection.stream);
    if (streams.length === 0) return;
    for (const stream of streams) stream.cork();
    this.held = true;
    setImmediate(() => {
      this.held = false;
      for (const stream of streams) stream.uncork();
    });
  }
}
