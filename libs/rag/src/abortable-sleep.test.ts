import { describe, expect, it } from 'vitest';
import { AbortableSleeper } from './abortable-sleep.ts';

describe('AbortableSleeper', () => {
  it('sleeps one sleep after another for at least the time asked', async () => {
    const sleeper = new AbortableSleeper(new AbortController().signal);
    const start = performance.now();
    await sleeper.sleep(20);
    await sleeper.sleep(20);
    await sleeper.sleep(0);
    expect(performance.now() - start).toBeGreaterThanOrEqual(39);
    sleeper.dispose();
  });

  it('rejects a sleep in progress with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const sleeper = new AbortableSleeper(controller.signal);
    const reason = new Error('stopped');
    const sleeping = sleeper.sleep(60_000);
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    // After the abort, every sleep is refused at once, a zero-length one too.
    await expect(sleeper.sleep(0)).rejects.toBe(reason);
    await expect(sleeper.sleep(10)).rejects.toBe(reason);
  });

  it('stops listening to the signal once disposed', async () => {
    const controller = new AbortController();
    const sleeper = new AbortableSleeper(controller.signal);
    let settled = false;
    void sleeper.sleep(10).finally(() => {
      settled = true;
    });
    sleeper.dispose();
    controller.abort(new Error('late'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settled).toBe(false);
  });
});
