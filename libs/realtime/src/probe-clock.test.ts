import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProbeClock } from './probe-clock.ts';

describe('ProbeClock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks every stream it holds with one timer, and stops when it holds none', () => {
    const clock = new ProbeClock(100);
    const ticks = { a: 0, b: 0 };
    const a = {
      checkIdle: () => {
        ticks.a += 1;
      },
    };
    const b = {
      checkIdle: () => {
        ticks.b += 1;
      },
    };
    clock.add(a);
    clock.add(b);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(250);
    expect(ticks).toEqual({ a: 2, b: 2 });
    clock.delete(a);
    vi.advanceTimersByTime(100);
    expect(ticks).toEqual({ a: 2, b: 3 });
    clock.delete(b);
    expect(vi.getTimerCount()).toBe(0);
    clock.add(a);
    vi.advanceTimersByTime(100);
    expect(ticks).toEqual({ a: 3, b: 3 });
    clock.delete(a);
  });

  it('gives one clock per period to the whole process', () => {
    expect(ProbeClock.every(50)).toBe(ProbeClock.every(50));
    expect(ProbeClock.every(50)).not.toBe(ProbeClock.every(100));
  });
});
