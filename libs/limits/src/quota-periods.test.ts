import { describe, expect, it } from 'vitest';
import { periodWindow } from './quota-periods.ts';

describe('periodWindow', () => {
  it('names the UTC day and month and ends them at the next UTC midnight and first of the month', () => {
    const now = new Date('2025-06-30T23:59:59.999Z');
    expect(periodWindow('day', now)).toEqual({ start: '2025-06-30', resetAt: new Date('2025-07-01T00:00:00.000Z') });
    expect(periodWindow('month', now)).toEqual({ start: '2025-06', resetAt: new Date('2025-07-01T00:00:00.000Z') });
  });

  it('rolls over the year and knows February', () => {
    expect(periodWindow('month', new Date('2025-12-15T12:00:00Z')).resetAt).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(periodWindow('day', new Date('2024-02-28T08:00:00Z')).resetAt).toEqual(new Date('2024-02-29T00:00:00Z'));
    expect(periodWindow('day', new Date('2025-01-01T00:00:00Z')).start).toBe('2025-01-01');
  });
});
