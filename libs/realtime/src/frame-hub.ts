import type { GenerationFrame, RedisKeys } from '@ragstream/protocol';
import { generationFrameSchema } from '@ragstream/protocol';
import type { RealtimeLogger } from './realtime-logger.ts';
import type { RedisClient } from './redis-connection.ts';

/** One client connection's interest in a chat's frames. */
export interface HubMember {
  frame(frame: GenerationFrame): void;
  /** The subscriber connection came back: whatever was published while it was down is only in the log. */
  reconnected(): void;
}

/**
 * An API node's one subscriber connection: it subscribes to a chat's frame channel
 * while the node holds at least one client of that chat and fans frames out to them.
 */
export class FrameHub {
  private readonly members = new Map<string, Set<HubMember>>();
  /** Per chat, the generation whose frames this node last saw streaming (none after its terminal frame). */
  private readonly live = new Map<string, string>();

  constructor(
    private readonly subscriber: RedisClient,
    private readonly keys: RedisKeys,
    private readonly logger: RealtimeLogger,
  ) {
    subscriber.on('smessage', (channel: string, message: string) => this.dispatch(channel, message));
    if (subscriber.isCluster) {
      // A Cluster's shard subscribers come back (after a lost node or a failover) with this event.
      subscriber.on('subscribersReady', () => void this.resubscribe());
      return;
    }
    // The first 'ready' is the initial connect; every later one follows a lost connection.
    let connectedBefore = subscriber.status === 'ready';
    subscriber.on('ready', () => {
      if (connectedBefore) void this.resubscribe();
      connectedBefore = true;
    });
  }

  /** Resolves once the node is subscribed, so that no frame published afterwards is missed. */
  async join(chatId: string, member: HubMember): Promise<void> {
    let set = this.members.get(chatId);
    if (!set) {
      set = new Set();
      this.members.set(chatId, set);
    }
    set.add(member);
    // Subscribing again is harmless and guarantees the subscription is confirmed for this caller.
    await this.subscriber.ssubscribe(this.keys.chatFrames(chatId));
  }

  async leave(chatId: string, member: HubMember): Promise<void> {
    const set = this.members.get(chatId);
    if (!set) return;
    set.delete(member);
    if (set.size > 0) return;
    this.members.delete(chatId);
    this.live.delete(chatId);
    await this.subscriber.sunsubscribe(this.keys.chatFrames(chatId));
  }

  /** The chat's answer this node sees streaming, if any: a stop's first guess at what to stop. */
  streaming(chatId: string): string[] {
    const generationId = this.live.get(chatId);
    return generationId === undefined ? [] : [generationId];
  }

  /**
   * ioredis re-subscribes on its own after a reconnect, but does not say when that is
   * confirmed: subscribing here and awaiting it means that members re-read the log only
   * once every later frame is sure to arrive live. One command per chat: a Cluster takes
   * sharded subscriptions of one slot per command.
   */
  private async resubscribe(): Promise<void> {
    const chatIds = [...this.members.keys()];
    if (chatIds.length === 0) return;
    try {
      await Promise.all(chatIds.map((chatId) => this.subscriber.ssubscribe(this.keys.chatFrames(chatId))));
    } catch (err) {
      // The connection dropped again; its next 'ready' runs this again.
      this.logger.warn('frame subscriber could not re-subscribe', { chats: chatIds.length, err });
      return;
    }
    for (const chatId of chatIds) {
      for (const member of this.members.get(chatId) ?? []) member.reconnected();
    }
  }

  private dispatch(channel: string, message: string): void {
    const chatId = this.keys.chatOfFrames(channel);
    const set = chatId === undefined ? undefined : this.members.get(chatId);
    if (chatId === undefined || !set) return;
    let frame: GenerationFrame;
    try {
      frame = generationFrameSchema.parse(JSON.parse(message));
    } catch (err) {
      this.logger.error('invalid frame on channel', { channel, err });
      return;
    }
    if (frame.mt === 'chat_message_bot_complete') {
      if (this.live.get(chatId) === frame.generationId) this.live.delete(chatId);
    } else this.live.set(chatId, frame.generationId);
    for (const member of set) member.frame(frame);
  }
}
