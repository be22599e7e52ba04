import { MAX_DOCUMENT_BYTES } from '@ragstream/protocol';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from './config.ts';

describe('limit settings', () => {
  it('default to generous limits, each its own variable', () => {
    expect(loadApiConfig({})).toMatchObject({
      MESSAGES_PER_MINUTE_PER_USER: 120,
      FRAMES_PER_SECOND_PER_CONNECTION: 50,
      ANSWERS_IN_PROGRESS_PER_USER: 20,
      ANSWERS_IN_PROGRESS_PER_ORGANISATION: 1000,
      CONNECTIONS_PER_USER: 100,
      GENERATION_QUEUE_MAX_WAITING: 10_000,
      LIMIT_ABUSE_FACTOR: 10,
      TOKEN_QUOTA_USER_DAILY: 1_000_000,
      TOKEN_QUOTA_USER_MONTHLY: 20_000_000,
      TOKEN_QUOTA_ORGANISATION_DAILY: 50_000_000,
      TOKEN_QUOTA_ORGANISATION_MONTHLY: 1_000_000_000,
      DOCUMENT_MAX_BYTES: MAX_DOCUMENT_BYTES,
      DOCUMENT_FORMATS: ['text', 'markdown', 'html', 'pdf'],
      DOCUMENTS_PER_ORGANISATION: 10_000,
    });
  });

  it('take 0 for no limit, and a list of document formats', () => {
    const config = loadApiConfig({ MESSAGES_PER_MINUTE_PER_USER: '0', TOKEN_QUOTA_USER_DAILY: '0', DOCUMENT_FORMATS: 'text, markdown' });
    expect(config.MESSAGES_PER_MINUTE_PER_USER).toBe(0);
    expect(config.TOKEN_QUOTA_USER_DAILY).toBe(0);
    expect(config.DOCUMENT_FORMATS).toEqual(['text', 'markdown']);
  });

  it.each([
    ['MESSAGES_PER_MINUTE_PER_USER', '-1'],
    ['CONNECTIONS_PER_USER', 'many'],
    ['TOKEN_QUOTA_ORGANISATION_MONTHLY', '1.5'],
    ['DOCUMENT_MAX_BYTES', '0'],
    ['DOCUMENT_FORMATS', 'text,docx'],
    ['DOCUMENT_FORMATS', ''],
  ])('refuse %s=%s, naming it', (name, value) => {
    expect(() => loadApiConfig({ [name]: value })).toThrow(name);
  });
});
