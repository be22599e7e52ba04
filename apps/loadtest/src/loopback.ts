import { isIP } from 'node:net';
import { UsageError } from './cli-flags.ts';

/** True for localhost, 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host);
  return false;
}

/**
 * Normalises a target API node URL and refuses anything that is not on this machine:
 * the load generator is for local deployments only.
 */
export function loopbackBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(input)} is not a URL; expected e.g. http://127.0.0.1:8000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url ${input}: use the API node's http:// or https:// address; WebSocket URLs are derived from it`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `refusing to load-test ${url.hostname}: only loopback addresses (localhost, 127.0.0.0/8, ::1) are allowed. ` +
        'Run the load generator on the machine that hosts the deployment.',
    );
  }
  return url.origin;
}
