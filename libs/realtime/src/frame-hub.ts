import type { GenerationFrame, RedisKeys } from '@ragstream/protocol';
import { generationFrameSchema } from '@ragstream/protocol';
import type { Redis } from 'ioredis';

export type FrameListener = (frame: GenerationFrame) => void;

/**
 * An API node's one subscriber connection: it subscribes to a chat's frame channel
 * while the node holds at least one client of that chat and fans frames out to them.
 */
export class FrameHub {
  private readonly listeners = new Map<string, Set<FrameListener>>();
  private readonly prefix: string;

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly onInvalid: (channel: string, error: unknown) => void,
  ) {
    this.prefix = keys.chatFrames('');
    subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  /** Resolves once the node is subscribed, so that no frame published afterwards is missed. */
  async join(chatId: string, listener: FrameListener): Promise<void> {
    let set = this.listeners.get(chatId);
    if (!set) {
      set = new Set();
      this.listeners.set(chatId, set);
    }
    set.add(listener);
    // Subscribing again is harmless and guarantees the subscription is confirmed for this caller.
    await this.subscriber.subscribe(this.keys.chatFrames(chatId));
  }

  async leave(chatId: string, listener: FrameListener): Promise<void> {
    const set = this.listeners.get(chatId);
    if (!set) return;
    set.delete(listener);
    if (set.size > 0) return;
    this.listeners.delete(chatId);
    await this.subscriber.unsubscribe(this.keys.chatFrames(chatId));
  }

  private dispatch(channel: string, message: string): void {
    if (!channel.startsWith(this.prefix)) return;
    const set = this.listeners.get(channel.slice(this.prefix.length));
    if (!set) return;
    let frame: GenerationFrame;
    try {
      frame = generationFrameSchema.parse(JSON.parse(message));
    } catch (error) {
      this.onInvalid(channel, error);
      return;
    }
    for (const listener of set) listener(frame);
  }
}
