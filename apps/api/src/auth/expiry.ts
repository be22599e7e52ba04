import type { Principal } from './principal.ts';

/** setTimeout's longest delay; a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `expired` once the principal's token expires (never for a token without `exp`, or
 * with authentication off). Returns the cancel function; the timer does not hold the process.
 */
export function onTokenExpiry(principal: Principal | undefined, expired: () => void, now: () => number = Date.now): () => void {
  const expiresAt = principal?.expiresAt;
  if (expiresAt === undefined) return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  // Always through a timer, so that `expired` never runs inside the caller.
  const arm = (): void => {
    timer = setTimeout(check, Math.min(Math.max(0, expiresAt - now()), MAX_TIMER_MS));
    timer.unref();
  };
  const check = (): void => {
    if (now() >= expiresAt) expired();
    else arm();
  };
  arm();
  return () => clearTimeout(timer);
}
