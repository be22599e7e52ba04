import { describe, expect, it } from 'vitest';
import { incomingTraceId, newTraceId } from './message-trace.ts';

const headers =
  (values: Record<string, string>) =>
  (name: string): string | undefined =>
    values[name];

describe('incomingTraceId', () => {
  it('takes the trace-id of a valid traceparent first, then a usable X-Request-Id', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(incomingTraceId(headers({ traceparent, 'x-request-id': 'req-1' }))).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(incomingTraceId(headers({ traceparent: 'garbage', 'x-request-id': 'req-1' }))).toBe('req-1');
  });

  it('ignores an all-zero trace-id and request ids that the job schema refuses', () => {
    expect(incomingTraceId(headers({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` }))).toBeUndefined();
    expect(incomingTraceId(headers({ 'x-request-id': 'a b\n{"level":"error"}' }))).toBeUndefined();
    expect(incomingTraceId(headers({}))).toBeUndefined();
  });
});

describe('newTraceId', () => {
  it('makes 32 hex digits, fresh each time', () => {
    expect(newTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newTraceId()).not.toBe(newTraceId());
  });
});
