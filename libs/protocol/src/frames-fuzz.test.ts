import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientFrameSchema, errorFrameSchema, parseClientFrame, parseClientFrameText, serverFrameSchema } from './frames.ts';
import { createChatBodySchema, createMessageBodySchema, pageQuerySchema, updateChatBodySchema, updateMessageBodySchema } from './rest.ts';

/** `npm run fuzz` sets FUZZ_RUNS (10,000); `npm test` runs a few hundred. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const MAX_MESSAGE_BYTES = 64;
const REFUSALS = new Set(['invalid_json', 'invalid_frame', 'unknown_message_type', 'message_too_large']);

const validUpload = fc.record(
  {
    mt: fc.constant('message_upload' as const),
    userId: fc.string({ minLength: 1, maxLength: 40 }),
    message: fc.string({ minLength: 1, maxLength: 16 }),
    clientMessageId: fc.string({ minLength: 1, maxLength: 40 }),
    timezone: fc.string({ maxLength: 20 }),
    selectedLanguage: fc.constantFrom('en', 'hi'),
  },
  { requiredKeys: ['mt', 'message', 'userId'] },
);

/** A valid frame with one field dropped or given any value: the shapes a buggy client sends. */
const mutatedUpload = fc
  .tuple(
    validUpload,
    fc.constantFrom('mt', 'userId', 'message', 'clientMessageId', 'timezone', 'selectedLanguage'),
    fc.option(fc.anything()),
  )
  .map(([frame, key, value]) => {
    const copy: Record<string, unknown> = { ...frame };
    if (value === null) delete copy[key];
    else copy[key] = value;
    return copy;
  });

const anyInput = fc.oneof(fc.anything(), fc.jsonValue(), mutatedUpload, validUpload);

/** Each property's case count, printed so that `npm run fuzz` reports what it ran. */
function assertRuns<T>(name: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => void): void {
  fc.assert(fc.property(arbitrary, check), { numRuns: RUNS });
  console.log(`fuzz schemas: ${name}: ${RUNS} cases`);
}

describe('protocol schemas under fuzzed input (fast-check)', () => {
  it('parseClientFrame never throws: a frame is accepted as the schema says, or refused with one known code', () => {
    assertRuns('client frames', anyInput, (input) => {
      const parsed = parseClientFrame(input, MAX_MESSAGE_BYTES);
      if (parsed.ok) {
        expect(clientFrameSchema.safeParse(input).success).toBe(true);
        return;
      }
      expect(errorFrameSchema.parse(parsed.error).code).toSatisfy((code: string) => REFUSALS.has(code));
      expect(clientFrameSchema.safeParse(input).success && parsed.error.code !== 'message_too_large').toBe(false);
    });
  });

  it('parseClientFrameText never throws on any text, JSON or not', () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.json(),
      anyInput.map((v) => JSON.stringify(v) ?? ''),
    );
    assertRuns('client frame text', text, (input) => {
      const parsed = parseClientFrameText(input, MAX_MESSAGE_BYTES);
      if (!parsed.ok) expect(REFUSALS.has(parsed.error.code)).toBe(true);
    });
  });

  it('a valid upload survives JSON and parses to itself; its size limit counts UTF-8 bytes', () => {
    assertRuns('valid uploads', validUpload, (frame) => {
      const parsed = parseClientFrameText(JSON.stringify(frame), MAX_MESSAGE_BYTES);
      const bytes = Buffer.byteLength(frame.message, 'utf8');
      if (bytes > MAX_MESSAGE_BYTES) expect(parsed.ok ? undefined : parsed.error.code).toBe('message_too_large');
      else expect(parsed).toEqual({ ok: true, frame });
    });
  });

  it('server frame and REST body schemas refuse without throwing, and what they accept is well-formed', () => {
    const schemas = [
      serverFrameSchema,
      createChatBodySchema,
      updateChatBodySchema,
      createMessageBodySchema,
      updateMessageBodySchema,
      pageQuerySchema,
    ];
    assertRuns('server frames and REST bodies', fc.tuple(fc.constantFrom(...schemas), anyInput), ([schema, input]) => {
      const result = schema.safeParse(input);
      if (result.success) expect(schema.safeParse(JSON.parse(JSON.stringify(result.data))).success).toBe(true);
    });
  });
});
