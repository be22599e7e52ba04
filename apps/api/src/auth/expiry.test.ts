import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onTokenExpiry } from './expiry.ts';
import type { Principal } from './principal.ts';

const principal = (expiresAt: number | undefined): Principal => ({
  userId: 'u',
  organisationId: 'o',
  admin: false,
  orgAdmin: false,
  expiresAt,
});

describe('onTokenExpiry', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once at exp, never inside the caller, and not after cancel', () => {
    const expired = vi.fn();
    onTokenExpiry(principal(Date.now() + 1000), expired);
    vi.advanceTimersByTime(999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);

    const late = vi.fn();
    onTokenExpiry(principal(Date.now() - 5), late);
    expect(late).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(late).toHaveBeenCalledTimes(1);

    const cancelled = vi.fn();
    onTokenExpiry(principal(Date.now() + 10), cancelled)();
    vi.advanceTimersByTime(100);
    expect(cancelled).not.toHaveBeenCalled();
  });

  it('waits in steps for an expiry beyond the longest timer (about 24.8 days), and ignores tokens without exp', () => {
    const expired = vi.fn();
    const days40 = 40 * 24 * 3600 * 1000;
    onTokenExpiry(principal(Date.now() + days40), expired);
    vi.advanceTimersByTime(days40 - 1);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);

    const never = vi.fn();
    onTokenExpiry(principal(undefined), never);
    onTokenExpiry(undefined, never);
    vi.advanceTimersByTime(days40);
    expect(never).not.toHaveBeenCalled();
  });
});
