import type { IncomingHttpHeaders } from 'node:http';
import type { CorsOptions, CorsOptionsDelegate, CorsRequest } from 'cors';

/** What a cross-origin browser client may send and read. */
const CORS_BASE: CorsOptions = {
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
  allowedHeaders: ['content-type', 'authorization', 'last-event-id', 'x-request-id', 'traceparent'],
  exposedHeaders: ['x-request-id', 'retry-after'],
  // Bearer tokens, never cookies, cross origins: the admin cookie stays same-origin.
  credentials: false,
  maxAge: 600,
};

/**
 * The browser origins that may use this node, from `CORS_ORIGIN`: `*` for any, or a
 * comma-separated list of exact origins (`https://app.example.com,https://admin.example.com`).
 * A request without an `Origin` header (curl, servers, load balancers) is no browser's and
 * always passes; so does one from the node's own page (its Origin names the request's Host).
 * One policy serves REST, SSE, Socket.IO and the raw WebSocket alike.
 */
export class OriginPolicy {
  readonly anyOrigin: boolean;
  private readonly origins: ReadonlySet<string>;

  constructor(corsOrigin: string) {
    const entries = corsOrigin
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    this.anyOrigin = entries.includes('*');
    this.origins = new Set(entries.filter((entry) => entry !== '*').map(normaliseOrigin));
  }

  /** Whether a request with these headers may be served. */
  allows(headers: IncomingHttpHeaders): boolean {
    const origin = headers.origin;
    if (origin === undefined || this.anyOrigin) return true;
    return this.origins.has(normaliseOrigin(origin)) || sameOrigin(origin, headers.host);
  }

  /**
   * For the `cors` package (Express and Socket.IO's engine): CORS headers for an allowed
   * origin (`*`, or the origin itself with `Vary: Origin`), none for another one.
   */
  readonly corsOptions: CorsOptionsDelegate<CorsRequest> = (req, callback) => {
    if (this.anyOrigin) {
      callback(null, { ...CORS_BASE, origin: '*' });
      return;
    }
    callback(null, { ...CORS_BASE, origin: req.headers.origin !== undefined && this.allows(req.headers) });
  };
}

/** Origins compare by scheme, host and port, lower-cased, without a trailing slash. */
function normaliseOrigin(origin: string): string {
  try {
    const url = new URL(origin);
    // `null` (sandboxed frames, file: pages) has no host; it is matched only when listed as is.
    return url.host === '' ? origin.toLowerCase() : url.origin.toLowerCase();
  } catch {
    return origin.trim().toLowerCase();
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
