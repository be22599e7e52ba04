import type { Server as HttpServer } from 'node:http';
import { CLIENT_FRAME_TYPES, errorFrame, resumeParamsSchema, TRANSPORT_MAX_FRAME_BYTES, userRoom } from '@ragstream/protocol';
import type { RedisClient } from '@ragstream/realtime';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Socket } from 'socket.io';
import { Server } from 'socket.io';
import { ApiError } from '../api-error.ts';
import { actingUser } from '../auth/access.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { bearerToken } from '../auth/authenticator.ts';
import { onTokenExpiry } from '../auth/expiry.ts';
import type { Principal } from '../auth/principal.ts';
import type { ConnectionDeps } from '../chat-connection.ts';
import { ChatConnection, SLOW_CONSUMER_CLOSE_GRACE_MS } from '../chat-connection.ts';
import type { OriginPolicy } from '../http/origin-policy.ts';
import { dropEngineConnection, engineBufferedBytes } from './engine-buffer.ts';
import { handshakeUser } from './handshake-user.ts';

export interface SocketIoOptions {
  /** CORS_ORIGIN: CORS headers on long-polling, and every handshake and upgrade from another origin refused (403). */
  origins: OriginPolicy;
  /** Long-polling needs sticky sessions behind a load balancer; WebSocket alone does not. */
  allowPolling: boolean;
  adapterPrefix: string;
  pubClient: RedisClient;
  subClient: RedisClient;
}

interface HandshakeData {
  /** Undefined for a user-level connection (no chat). */
  connection: Promise<ChatConnection> | undefined;
  userId: string | undefined;
  /** Undefined with authentication off. */
  principal: Principal | undefined;
}

/**
 * Socket.IO on namespace `/chat`: handshake `auth` carries `chatId` (and `generationId`,
 * `lastSeq` to resume); events are named by `mt` and carry the same payloads as the
 * WebSocket frames. A `userId` in the handshake also joins the user's room, which hears the
 * user-level frames (chat list, answers started); with a `userId` and no `chatId` the
 * connection is user-level only. The Redis adapter makes rooms and server-side emits cluster-wide.
 *
 * With authentication on, the handshake carries `auth.token` (or `Authorization: Bearer`); the
 * user is its `sub` (a `userId` that differs fails with `forbidden`), and every connection joins
 * that user's room. A missing or invalid token fails with `connect_error` `unauthorized` (or
 * `token_expired`); when the token expires the socket gets an `error` frame `token_expired` and
 * is disconnected, and reconnects with a fresh token.
 */
export function attachSocketIo(
  httpServer: HttpServer,
  deps: ConnectionDeps,
  authenticator: Authenticator,
  options: SocketIoOptions,
): Server {
  const io = new Server(httpServer, {
    transports: options.allowPolling ? ['polling', 'websocket'] : ['websocket'],
    maxHttpBufferSize: TRANSPORT_MAX_FRAME_BYTES,
    cors: options.origins.corsOptions,
    // Browsers apply no CORS to a WebSocket: the Origin is checked here, for polling and upgrades alike.
    allowRequest: (req, callback) => {
      if (options.origins.allows(req.headers)) callback(null, true);
      else callback('origin not allowed (CORS_ORIGIN)', false);
    },
    adapter: createAdapter(options.pubClient, options.subClient, { key: options.adapterPrefix }),
  });
  const chat = io.of('/chat');

  chat.use(async (socket, next) => {
    const auth = { ...socket.handshake.query, ...(socket.handshake.auth as Record<string, unknown>) };
    const chatId = typeof auth.chatId === 'string' ? auth.chatId : '';
    const data = socket.data as HandshakeData;
    try {
      const token = typeof auth.token === 'string' ? auth.token : bearerToken(socket.handshake.headers.authorization);
      data.principal = await authenticator.authenticate(token);
      data.userId = actingUser(data.principal, handshakeUser(auth));
    } catch (err) {
      next(withData(err instanceof ApiError ? err : new ApiError('invalid_query', 'userId could not be read')));
      return;
    }
    if (chatId === '' && data.userId !== undefined) {
      data.connection = undefined;
      const userId = data.userId;
      deps.userConnections.open(userId).then(
        () => {
          // A client gone meanwhile gets no 'disconnect': let go of its place here.
          if (socket.conn.readyState !== 'open') releaseUser(deps, userId);
          next();
        },
        (err: unknown) => next(withData(err instanceof ApiError ? err : new ApiError('unavailable', 'could not open the connection'))),
      );
      return;
    }
    const resume = resumeParamsSchema.safeParse({ generationId: auth.generationId, lastSeq: auth.lastSeq });
    if (!resume.success) {
      next(withData(new ApiError('invalid_query', 'generationId must be a string and lastSeq a non-negative integer')));
      return;
    }
    data.connection = ChatConnection.open(
      deps,
      chatId,
      resume.data,
      data.principal,
      {
        kind: 'socketio',
        send: (frame) => socket.emit(frame.mt, frame),
        bufferedBytes: engineBufferedBytes(socket.conn),
        disconnect: (reason) => {
          socket.disconnect(true);
          // engine.io closes only once its backlog is written; a client that does not read it by then is dropped.
          if (reason === 'slow_consumer') setTimeout(() => dropEngineConnection(socket.conn), SLOW_CONSUMER_CLOSE_GRACE_MS).unref();
        },
      },
      data.userId,
    );
    data.connection.then(
      (connection) => {
        // A client gone meanwhile gets no 'connection' (so no 'disconnect') from Socket.IO: close the chat here.
        if (socket.conn.readyState !== 'open') void connection.close();
        next();
      },
      (err: unknown) => next(withData(err instanceof ApiError ? err : new ApiError('unavailable', 'could not open the chat'))),
    );
  });

  chat.on('connection', (socket: Socket) => {
    const { connection, userId, principal } = socket.data as HandshakeData;
    // Joined synchronously (the Redis adapter keeps rooms per node), before the client can act on its connect.
    if (userId !== undefined) socket.join(userRoom(userId));
    if (connection === undefined) {
      acceptUserLevelOnly(socket, deps);
      // A chat connection closes itself when its token expires; a user-level one is closed here.
      const cancelExpiry = onTokenExpiry(principal, () => {
        const expired = errorFrame('token_expired', 'token expired; reconnect with a fresh token');
        socket.emit(expired.mt, expired);
        socket.disconnect(true);
      });
      socket.on('disconnect', cancelExpiry);
      return;
    }
    const handle = (input: unknown): void => {
      void connection.then((c) => (typeof input === 'string' ? c.handleText(input) : c.handle(input)));
    };
    for (const mt of CLIENT_FRAME_TYPES) {
      socket.on(mt, (payload: unknown) => handle(payload === undefined ? { mt } : mergeMt(mt, payload)));
    }
    // `socket.send(frame)` delivers a whole seed frame (object or JSON text) on the 'message' event.
    socket.on('message', (payload: unknown) => handle(payload));
    socket.onAny((event: string, payload: unknown) => {
      if (event === 'message' || (CLIENT_FRAME_TYPES as readonly string[]).includes(event)) return;
      handle({ ...(isRecord(payload) ? payload : {}), mt: event });
    });
    socket.on('disconnect', () => {
      void connection.then((c) => c.close());
    });
  });
  return io;
}

/**
 * A connection without a chat has nothing to send or stop: every client frame gets an `error`
 * frame, within the same frame rate as a chat connection's.
 */
function acceptUserLevelOnly(socket: Socket, deps: ConnectionDeps): void {
  const { userId } = socket.data as HandshakeData;
  const connectionId = `sio-user:${socket.id}`;
  socket.onAny((event: string, payload: unknown) => {
    const clientMessageId = isRecord(payload) && typeof payload.clientMessageId === 'string' ? payload.clientMessageId : undefined;
    void deps.frames.take(connectionId).then(
      (decision) => {
        if (!socket.connected) return;
        const error = decision.allowed
          ? errorFrame('chat_not_found', `${event}: this connection has no chat; give chatId in the handshake`, clientMessageId)
          : errorFrame('rate_limited', `too many frames: the limit is ${decision.limit} per second per connection`, clientMessageId, {
              retryAfter: decision.retryAfterSeconds,
            });
        socket.emit(error.mt, error);
        if (!decision.allowed && decision.abusive) socket.disconnect(true);
      },
      () => undefined,
    );
  });
  if (userId !== undefined) socket.on('disconnect', () => releaseUser(deps, userId));
}

/** Lets go of a user-level connection's place; a failure (Redis down) only delays it until the entry expires. */
function releaseUser(deps: ConnectionDeps, userId: string): void {
  deps.userConnections.close(userId).catch((err: unknown) => deps.logger.warn('could not release a connection place', { err }));
}

function mergeMt(mt: string, payload: unknown): unknown {
  return isRecord(payload) ? { ...payload, mt } : payload;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withData(error: ApiError): Error & { data: { code: string; message: string; retryAfter?: number } } {
  return Object.assign(new Error(error.message), { data: { code: error.code, message: error.message, ...error.details } });
}
