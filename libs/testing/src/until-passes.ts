/**
 * Runs `check` every 100 ms until it stops throwing, and returns what it returned; past
 * `timeoutMs` its last error is thrown. For what a process writes just after the frames a test
 * waits for (metrics, server logs).
 */
export async function untilPasses<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
