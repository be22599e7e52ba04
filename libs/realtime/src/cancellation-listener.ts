import type { RedisKeys } from '@ragstream/protocol';
import type { RedisClient } from './redis-connection.ts';

/** Delivers stop requests, published by any process, to every worker process. */
export async function listenForCancellations(
  subscriber: RedisClient,
  keys: RedisKeys,
  onCancel: (generationId: string) => void,
): Promise<void> {
  subscriber.on('message', (channel: string, generationId: string) => {
    if (channel === keys.cancelChannel) onCancel(generationId);
  });
  await subscriber.subscribe(keys.cancelChannel);
}
