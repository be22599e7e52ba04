/**
 * Settles like `promise`, or rejects with `signal.reason` as soon as the signal
 * aborts. The OpenAI SDK sleeps between retries without watching the signal
 * (and honours any Retry-After the server sends), so stop would otherwise wait
 * out the back-off. The abandoned promise's later rejection is swallowed.
 */
export function untilAborted<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  const settled = Promise.resolve(promise);
  if (signal.aborted) {
    settled.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    settled.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
