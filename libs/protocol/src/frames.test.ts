import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, isLimitErrorCode, LIMIT_ERROR_CODES } from './error-codes.ts';
import { errorFrame, generationFrameSchema, parseClientFrame, parseClientFrameText, serverFrameSchema } from './frames.ts';
import { formatEventId, parseEventId } from './rest.ts';

const LIMIT = 16;

describe('parseClientFrame', () => {
  it.each([
    ['not JSON', '{"mt":', 'invalid_json'],
    ['an array', '[1,2]', 'invalid_frame'],
    ['no mt', '{"message":"hi"}', 'unknown_message_type'],
    ['an unknown mt', '{"mt":"dance"}', 'unknown_message_type'],
    ['a missing message', '{"mt":"message_upload","userId":"1"}', 'invalid_frame'],
    ['a mistyped userId', '{"mt":"message_upload","message":"hi","userId":123}', 'invalid_frame'],
    ['an empty message', '{"mt":"message_upload","message":"","userId":"1"}', 'invalid_frame'],
    ['a message over the byte limit', JSON.stringify({ mt: 'message_upload', message: 'नमस्ते नमस्ते', userId: '1' }), 'message_too_large'],
  ])('rejects %s with a code', (_label, text, code) => {
    const parsed = parseClientFrameText(text, LIMIT);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.mt).toBe('error');
      expect(parsed.error.code).toBe(code);
      expect(parsed.error.message.length).toBeGreaterThan(0);
    }
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 5 Devanagari characters are 15 bytes: under 16; 6 are 18: over.
    expect(parseClientFrame({ mt: 'message_upload', message: 'नमस्ते'.slice(0, 5), userId: '1' }, LIMIT).ok).toBe(true);
    expect(parseClientFrame({ mt: 'message_upload', message: 'नमस्ते', userId: '1' }, LIMIT).ok).toBe(false);
  });

  it('accepts the seed example and keeps the client message id on errors', () => {
    const ok = parseClientFrame({ mt: 'message_upload', message: 'Hello!', userId: '123', timezone: 'UTC', selectedLanguage: 'en' }, 8192);
    expect(ok).toEqual({
      ok: true,
      frame: { mt: 'message_upload', message: 'Hello!', userId: '123', timezone: 'UTC', selectedLanguage: 'en' },
    });
    const bad = parseClientFrame({ mt: 'message_upload', message: 7, userId: '1', clientMessageId: 'c9' }, 8192);
    expect(bad.ok === false && bad.error.clientMessageId).toBe('c9');
    expect(parseClientFrame({ mt: 'stop' }, 8192)).toEqual({ ok: true, frame: { mt: 'stop' } });
  });
});

describe('resume_unavailable', () => {
  const frame = { mt: 'resume_unavailable', chatId: 'c1', generationId: 'gen-1' };

  it('is a server frame with chatId and generationId', () => {
    expect(serverFrameSchema.parse(frame)).toEqual(frame);
    expect(serverFrameSchema.safeParse({ mt: 'resume_unavailable', chatId: 'c1' }).success).toBe(false);
  });

  it('is not a generation frame: it has no seq and is never logged', () => {
    expect(generationFrameSchema.safeParse(frame).success).toBe(false);
  });
});

describe('server_shutdown', () => {
  it('is a server frame with the chatId, outside any generation', () => {
    const frame = { mt: 'server_shutdown', chatId: 'c1' };
    expect(serverFrameSchema.parse(frame)).toEqual(frame);
    expect(serverFrameSchema.safeParse({ mt: 'server_shutdown' }).success).toBe(false);
    expect(generationFrameSchema.safeParse(frame).success).toBe(false);
  });
});

describe('SSE event ids', () => {
  it('round-trip <generationId>:<seq>', () => {
    expect(parseEventId(formatEventId('gen-abc', 42))).toEqual({ generationId: 'gen-abc', lastSeq: 42 });
  });
  it.each(['', 'nocolon', ':5', 'gen:x', 'gen:-1'])('reject %j', (value) => {
    expect(parseEventId(value)).toBeUndefined();
  });
});

describe('error frames of a limit', () => {
  it('carry retryAfter and resetAt when given, and parse as server frames', () => {
    const frame = errorFrame('quota_exceeded', 'daily quota used', 'c1', { retryAfter: 30, resetAt: '2025-06-02T00:00:00.000Z' });
    expect(frame).toEqual({
      mt: 'error',
      code: 'quota_exceeded',
      message: 'daily quota used',
      clientMessageId: 'c1',
      retryAfter: 30,
      resetAt: '2025-06-02T00:00:00.000Z',
    });
    expect(serverFrameSchema.parse(frame)).toEqual(frame);
  });

  it('stay as they were without details: older clients see no new field', () => {
    expect(errorFrame('busy', 'queue full')).toEqual({ mt: 'error', code: 'busy', message: 'queue full' });
    expect(serverFrameSchema.safeParse({ mt: 'error', code: 'busy', message: 'x', retryAfter: -1 }).success).toBe(false);
    expect(serverFrameSchema.safeParse({ mt: 'error', code: 'busy', message: 'x', resetAt: 'tomorrow' }).success).toBe(false);
  });

  it('have HTTP 429, except the type of a document', () => {
    for (const code of LIMIT_ERROR_CODES) expect(HTTP_STATUS[code]).toBe(429);
    expect(isLimitErrorCode('quota_exceeded')).toBe(true);
    expect(isLimitErrorCode('chat_not_found')).toBe(false);
    expect(HTTP_STATUS.unsupported_document_type).toBe(415);
  });
});
