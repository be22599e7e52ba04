import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { resumeParamsSchema, TRANSPORT_MAX_FRAME_BYTES } from '@ragstream/protocol';
import type { Logger } from '@ragstream/runtime';
import type { RawData, WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { ApiError } from '../api-error.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { bearerToken } from '../auth/authenticator.ts';
import type { ConnectionDeps, DisconnectReason } from '../chat-connection.ts';
import { ChatConnection, SLOW_CONSUMER_CLOSE_GRACE_MS } from '../chat-connection.ts';
import type { OriginPolicy } from '../http/origin-policy.ts';

const PATH = /^\/chat\/ws\/([^/]+)\/?$/;

/** Close codes in the application range, one per reason a connection cannot be opened; 1013: try again later. */
const CLOSE_CODES: Partial<Record<string, number>> = {
  chat_not_found: 4404,
  invalid_query: 4400,
  unauthorized: 4401,
  token_expired: 4401,
  forbidden: 4403,
  too_many_connections: 4429,
  unavailable: 1013,
};

/** The subprotocol that carries a token from a browser, which cannot set headers: `new WebSocket(url, ['bearer', jwt])`. */
export const BEARER_SUBPROTOCOL = 'bearer';

/**
 * Why the server ends an open connection: 1001 going away, 1011 an error on its side, 1008 a
 * client that stopped reading (its policy: MAX_BUFFERED_BYTES); each invites a resume.
 */
const DISCONNECT: Record<DisconnectReason, { code: number; reason: string }> = {
  shutting_down: { code: 1001, reason: 'server shutting down' },
  stream_interrupted: { code: 1011, reason: 'frame stream interrupted; reconnect and resume' },
  slow_consumer: { code: 1008, reason: 'slow consumer: too much unread; reconnect and resume' },
  // 1008 policy violation: the error frame before it names the limit.
  abuse: { code: 1008, reason: 'far past a rate limit; slow down before reconnecting' },
  token_expired: { code: 4401, reason: 'token expired; reconnect with a fresh token and resume' },
};

export interface WebSocketOptions {
  /** CORS_ORIGIN: a browser's upgrade from another origin is refused with 403 before any chat is opened. */
  origins: OriginPolicy;
  authenticator: Authenticator;
  logger: Logger;
}

/**
 * The seed's plain WebSocket at `/chat/ws/:chatId`, JSON frames with `mt`; resume
 * with `?generationId=&lastSeq=`. Frames over the transport limit close the socket
 * (1009); everything smaller gets an answer or an `error` frame. With authentication on, the
 * token comes in `?token=`, `Authorization: Bearer`, or the `bearer` subprotocol followed by the
 * token (`Sec-WebSocket-Protocol: bearer, <jwt>`); a connection without a valid one gets an
 * `error` frame and close code 4401.
 */
export function attachWebSocket(
  httpServer: HttpServer,
  deps: ConnectionDeps,
  { origins, authenticator, logger }: WebSocketOptions,
): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: TRANSPORT_MAX_FRAME_BYTES,
    // Never echo the token: a client that offers `bearer` gets `bearer`; otherwise its first offer, as `ws` does by default.
    handleProtocols: (offered) => (offered.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : ([...offered][0] ?? false)),
  });

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = parseUrl(req.url ?? '/');
    const match = url === null ? null : PATH.exec(url.pathname);
    if (url === null || !match) return; // Socket.IO's engine handles its own path (and drops what no one handles).
    if (!origins.allows(req.headers)) {
      logger.debug('websocket upgrade refused: origin not allowed', { url: req.url, origin: req.headers.origin });
      refuseUpgrade(socket, 403, { code: 'origin_not_allowed', message: 'this origin may not use the API; see CORS_ORIGIN' });
      return;
    }
    const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization) ?? subprotocolToken(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      void accept(ws, decodePathSegment(match[1] ?? ''), url.searchParams, token ?? undefined, req.url ?? '');
    });
  });

  /** `rawUrl`: the request's URL for the log, which cuts credentials (`?token=`) out of it. */
  async function accept(ws: WebSocket, chatId: string, query: URLSearchParams, token: string | undefined, rawUrl: string): Promise<void> {
    const early: string[] = [];
    const collect = (data: RawData): void => {
      early.push(data.toString());
    };
    ws.on('message', collect);
    // At once: a frame over the limit can arrive before the chat is looked up, and an unhandled 'error' would crash the node.
    ws.on('error', (err) => logger.warn('websocket error', { chatId, err }));
    const resume = resumeParamsSchema.safeParse({
      generationId: query.get('generationId') ?? undefined,
      lastSeq: query.get('lastSeq') ?? undefined,
    });
    let connection: ChatConnection;
    try {
      const principal = await authenticator.authenticate(token);
      if (!resume.success) throw new ApiError('invalid_query', 'generationId must be a string and lastSeq a non-negative integer');
      connection = await ChatConnection.open(deps, chatId, resume.data, principal, {
        kind: 'websocket',
        send: (frame) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
        },
        bufferedBytes: () => ws.bufferedAmount,
        disconnect: (reason) => {
          ws.close(DISCONNECT[reason].code, DISCONNECT[reason].reason);
          // The close frame waits behind the backlog; a client that does not read it by then is dropped.
          if (reason === 'slow_consumer') {
            setTimeout(() => {
              if (ws.readyState !== ws.CLOSED) ws.terminate();
            }, SLOW_CONSUMER_CLOSE_GRACE_MS).unref();
          }
        },
      });
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError('unavailable', 'could not open the chat');
      if (!(err instanceof ApiError)) logger.error('websocket open failed', { chatId, url: rawUrl, err });
      else logger.debug('websocket open refused', { chatId, url: rawUrl, code: error.code });
      ws.send(JSON.stringify(error.toFrame()));
      deps.metrics.errorSent(error.code);
      ws.close(CLOSE_CODES[error.code] ?? 1011, closeReason(error.message));
      return;
    }
    ws.off('message', collect);
    for (const text of early) void connection.handleText(text);
    ws.on('message', (data: RawData) => void connection.handleText(data.toString()));
    ws.on('close', () => void connection.close());
    if (ws.readyState !== ws.OPEN) await connection.close();
  }

  return wss;
}

/** Answers an upgrade request with a plain HTTP error, as a JSON body, and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, body: { code: string; message: string }): void {
  const text = JSON.stringify(body);
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

function parseUrl(path: string): URL | null {
  try {
    return new URL(path, 'http://localhost');
  } catch {
    return null;
  }
}

/** A malformed escape (`%E0%A4%A`) is no chat id: kept as it is, it is looked up and not found (4404), instead of throwing. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `Sec-WebSocket-Protocol: bearer, <token>`: the offer after `bearer` is the token. */
function subprotocolToken(req: IncomingMessage): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const at = offered.indexOf(BEARER_SUBPROTOCOL);
  return at < 0 ? undefined : offered[at + 1];
}

/** A close reason has at most 123 bytes of UTF-8 (a longer one throws); a message naming a long chat id is cut. */
function closeReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
