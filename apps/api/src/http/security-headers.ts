import type { RequestHandler } from 'express';
import helmet from 'helmet';

type Directives = Record<string, string[]>;

/**
 * The chat page (apps/web's Vite build) loads its script and stylesheet from this node and
 * talks to it over REST and Socket.IO: nothing inline, nothing from elsewhere. CSP 3's
 * 'self' covers ws: and wss: to the same host, so the page's WebSocket needs no other source.
 * No upgrade-insecure-requests: a node reached over plain HTTP (local, or behind a proxy that
 * ends TLS) would send its own page's requests to an https that does not answer.
 */
const PAGE_DIRECTIVES: Directives = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
};

/**
 * Bull Board's page has inline styles (its loading indicator, theme overrides) and takes
 * its fonts from Google Fonts; its scripts are still only its own.
 */
const BOARD_DIRECTIVES: Directives = {
  ...PAGE_DIRECTIVES,
  fontSrc: ["'self'", 'data:', 'https://fonts.gstatic.com'],
  styleSrc: ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
};

/** helmet's headers on every HTTP response, with the chat page's Content-Security-Policy. */
export function securityHeaders(): RequestHandler {
  return helmet({ contentSecurityPolicy: { useDefaults: false, directives: PAGE_DIRECTIVES } });
}

/** Replaces the policy above on Bull Board's routes. */
export function boardContentSecurityPolicy(): RequestHandler {
  return helmet.contentSecurityPolicy({ useDefaults: false, directives: BOARD_DIRECTIVES });
}
