import { describe, expect, it } from 'vitest';
import { serverFrameSchema } from './frames.ts';
import { isUserFrameType, USER_FRAME_TYPES, userFrameSchema, userRoom } from './user-frames.ts';

const CHAT = {
  id: '0123456789abcdef01234567',
  userId: 'u1',
  organisationId: '000000000000000000000001',
  title: 'A chat',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('user-level frames', () => {
  it('parses each frame type, and none of them is a per-chat frame', () => {
    const frames = [
      { mt: 'chat_created', chat: CHAT },
      { mt: 'chat_renamed', chat: CHAT },
      { mt: 'chat_deleted', chatId: CHAT.id },
      { mt: 'answer_started', chatId: CHAT.id, generationId: 'gen-1' },
    ];
    expect(frames.map((f) => userFrameSchema.parse(f))).toEqual(frames);
    expect(frames.map((f) => f.mt)).toEqual([...USER_FRAME_TYPES]);
    for (const frame of frames) expect(serverFrameSchema.safeParse(frame).success).toBe(false);
  });

  it('rejects a frame without its payload', () => {
    expect(userFrameSchema.safeParse({ mt: 'chat_created' }).success).toBe(false);
    expect(userFrameSchema.safeParse({ mt: 'answer_started', chatId: CHAT.id }).success).toBe(false);
  });

  it('names the room and tells user frames from chat frames', () => {
    expect(userRoom('u1')).toBe('user:u1');
    expect(isUserFrameType('chat_deleted')).toBe(true);
    expect(isUserFrameType('chat_message_bot_partial')).toBe(false);
  });
});
