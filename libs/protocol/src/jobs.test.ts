import { describe, expect, it } from 'vitest';
import { generateJobSchema, ingestJobSchema } from './jobs.ts';

const generate = {
  chatId: '0123456789abcdef01234567',
  organisationId: '000000000000000000000001',
  userId: '123',
  userMessageId: '0123456789abcdef01234568',
  generationId: 'gen-0123456789abcdef01234568',
  text: 'Hello!',
  enqueuedAt: 1_700_000_000_000,
};

describe('job traceId', () => {
  it('is optional, so that jobs queued before it existed still parse', () => {
    expect(generateJobSchema.parse(generate)).toEqual(generate);
    expect(ingestJobSchema.parse({ organisationId: 'o', documentId: 'd', revision: 1 })).not.toHaveProperty('traceId');
  });

  it('is kept when valid and refused when it could smuggle anything into a log line', () => {
    expect(generateJobSchema.parse({ ...generate, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }).traceId).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(ingestJobSchema.parse({ organisationId: 'o', documentId: 'd', revision: 1, traceId: 'req-1:a.b_c' }).traceId).toBe(
      'req-1:a.b_c',
    );
    for (const traceId of ['', 'a b', 'x\ny', 'a'.repeat(129)]) {
      expect(generateJobSchema.safeParse({ ...generate, traceId }).success).toBe(false);
    }
  });
});
