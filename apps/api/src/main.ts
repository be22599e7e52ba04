import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GenerationLifecycle, GenerationQueue } from '@ragstream/lifecycle';
import { RateLimit, TokenQuotas } from '@ragstream/limits';
import { RedisKeys, TRANSPORT_MAX_FRAME_BYTES } from '@ragstream/protocol';
import { CoalescedWrites, createRedis, FrameHub, FrameLog, IngestionQueue, Presence } from '@ragstream/realtime';
import { ConfigError, createLogger, healthRouter, metricsRouter, redisTarget, Shutdown } from '@ragstream/runtime';
import { createChatStore, createKnowledgeStore, DEFAULT_ORGANISATION_ID } from '@ragstream/store';
import type { Request } from 'express';
import express from 'express';
import { authenticateRequests, createAuthenticator } from './auth/authenticator.ts';
import type { VerifierKey, VerifierOptions } from './auth/token-verifier.ts';
import type { ConnectionDeps } from './chat-connection.ts';
import { ChatService } from './chat-service.ts';
import type { ApiConfig } from './config.ts';
import { loadApiConfig } from './config.ts';
import { ConnectionRegistry } from './connection-registry.ts';
import { attachBaseline } from './gateways/baseline-gateway.ts';
import { attachSocketIo } from './gateways/socketio-gateway.ts';
import { sseRouter } from './gateways/sse-gateway.ts';
import { attachWebSocket } from './gateways/websocket-gateway.ts';
import { adminAuth } from './http/admin-auth.ts';
import { adminRoutes } from './http/admin-routes.ts';
import { chatRoutes } from './http/chat-routes.ts';
import { cors } from './http/cors.ts';
import { errorHandler, notFoundHandler } from './http/error-handler.ts';
import { organisationRoutes } from './http/organisation-routes.ts';
import { OriginPolicy } from './http/origin-policy.ts';
import { securityHeaders } from './http/security-headers.ts';
import { usageRoutes } from './http/usage-routes.ts';
import { webRoutes } from './http/web-routes.ts';
import { MessageLimits } from './limits/message-limits.ts';
import { UserConnections } from './limits/user-connections.ts';
import { ApiMetrics } from './metrics/api-metrics.ts';
import { UserEvents } from './user-events.ts';

async function main(): Promise<void> {
  const config = loadApiConfig();
  const nodeId = config.NODE_ID ?? `api-${randomUUID().slice(0, 8)}`;
  // Bound at the root, so that every line of this node says which node wrote it.
  const logger = createLogger(`api:${nodeId}`, config.LOG_LEVEL).child({ nodeId });
  const drainMs = config.SHUTDOWN_DRAIN_SECONDS * 1000;
  const shutdown = new Shutdown(logger, drainMs + 10_000);
  shutdown.installSignalHandlers();
  let draining = false;

  const verifier = verifierOptions(config);
  const authenticator = createAuthenticator(verifier, logger);

  const keys = new RedisKeys(config.REDIS_PREFIX);
  const target = redisTarget(config);
  const redis = createRedis(target, { name: `${nodeId}-commands` });
  const frameSubscriber = createRedis(target, { name: `${nodeId}-frames`, retryForever: true });
  const adapterPub = createRedis(target, { name: `${nodeId}-sio-pub` });
  const adapterSub = createRedis(target, { name: `${nodeId}-sio-sub`, retryForever: true });
  const store = createChatStore({ mongodbUrl: config.MONGODB_URL, dataDir: config.DATA_DIR });
  const knowledge = createKnowledgeStore({ mongodbUrl: config.MONGODB_URL, dataDir: config.DATA_DIR });
  await store.init();
  await knowledge.init();
  await knowledge.ensureDefaultOrganisation();

  const log = new FrameLog(redis, keys, config.GENERATION_TTL_SECONDS);
  const commandWrites = new CoalescedWrites(redis);
  const queue = new GenerationQueue(redis, keys, logger);
  const lifecycle = new GenerationLifecycle({ redis, keys, log, store, queue, logger, ttlSeconds: config.GENERATION_TTL_SECONDS });
  const ingestion = new IngestionQueue(redis, keys);
  const metrics = new ApiMetrics([queue.queue, ingestion.queue], logger);
  const userEvents = new UserEvents();
  const hub = new FrameHub(frameSubscriber, keys, logger);
  const quotas = new TokenQuotas(redis, keys, {
    userDaily: config.TOKEN_QUOTA_USER_DAILY,
    userMonthly: config.TOKEN_QUOTA_USER_MONTHLY,
    organisationDaily: config.TOKEN_QUOTA_ORGANISATION_DAILY,
    organisationMonthly: config.TOKEN_QUOTA_ORGANISATION_MONTHLY,
  });
  const answerLimits = { perUser: config.ANSWERS_IN_PROGRESS_PER_USER, perOrganisation: config.ANSWERS_IN_PROGRESS_PER_ORGANISATION };
  const limits = new MessageLimits({
    messages: RateLimit.shared(redis, keys.rateLimit('messages'), config.MESSAGES_PER_MINUTE_PER_USER, 60, config.LIMIT_ABUSE_FACTOR),
    quotas,
    answers: answerLimits,
    reserve: (caller, generationId) => lifecycle.reserve(caller, generationId, answerLimits),
    release: (caller, generationId) => lifecycle.release(caller, generationId),
    waitingCount: () => queue.queue.getWaitingCount(),
    maxWaiting: config.GENERATION_QUEUE_MAX_WAITING,
    holdWrites: () => commandWrites.hold(),
  });
  const service = new ChatService({
    store,
    queue,
    lifecycle,
    log,
    redis,
    keys,
    clock: metrics,
    events: userEvents,
    limits,
    streaming: (chatId) => hub.streaming(chatId),
  });
  const presence = new Presence(redis, keys, nodeId, logger);
  presence.start();
  const userPresence = new Presence(redis, keys, nodeId, logger, (userId) => keys.userConnections(userId));
  userPresence.start();
  const userConnections = new UserConnections(userPresence, config.CONNECTIONS_PER_USER);
  const connections = new ConnectionRegistry();
  const connectionDeps: ConnectionDeps = {
    store,
    service,
    presence,
    subscriptions: { hub, log, fifo: lifecycle },
    connections,
    maxMessageBytes: config.MAX_MESSAGE_BYTES,
    maxInboundFrames: config.MAX_INBOUND_FRAMES,
    maxBufferedBytes: config.MAX_BUFFERED_BYTES,
    logger,
    metrics,
    frames: RateLimit.local(config.FRAMES_PER_SECOND_PER_CONNECTION, 1, config.LIMIT_ABUSE_FACTOR),
    userConnections,
  };
  const admin = adminAuth(config.ADMIN_TOKEN, authenticator);

  const origins = new OriginPolicy(config.CORS_ORIGIN);
  const app = express();
  app.disable('x-powered-by');
  app.use(metrics.countHttpErrors);
  app.use(securityHeaders());
  // Probes and scrapers send no Origin; these stay open to them whatever CORS_ORIGIN says.
  app.use(metricsRouter(metrics.registry, config.METRICS_TOKEN));
  app.use(
    healthRouter({ redis: () => redis.ping(), store: () => Promise.all([store.ping(), knowledge.ping()]) }, { draining: () => draining }),
  );
  app.use(cors(origins));
  app.use(adminRoutes({ auth: admin, generation: queue.queue, ingestion: ingestion.queue }));
  // Before every route that reads or writes users' data; /healthz, /readyz, /metrics, /admin and the page stay outside.
  app.use(['/chat', '/organisations', '/usage'], authenticateRequests(authenticator, isEventStream));
  app.use(usageRoutes({ quotas, inProgress: (owner) => lifecycle.inProgress(owner), answers: answerLimits, knowledge, admin }));
  app.use(
    organisationRoutes({
      knowledge,
      ingestion,
      logger,
      documents: {
        maxBytes: config.DOCUMENT_MAX_BYTES,
        formats: config.DOCUMENT_FORMATS,
        perOrganisation: config.DOCUMENTS_PER_ORGANISATION,
      },
    }),
  );
  app.use(express.json({ limit: TRANSPORT_MAX_FRAME_BYTES }));
  app.use(sseRouter(connectionDeps));
  app.use(chatRoutes({ store, knowledge, service, events: userEvents, maxMessageBytes: config.MAX_MESSAGE_BYTES, logger }));
  app.use(webRoutes());
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  const server = createServer(app);
  const io = attachSocketIo(server, connectionDeps, authenticator, {
    origins,
    allowPolling: config.SOCKETIO_POLLING,
    adapterPrefix: `${config.REDIS_PREFIX}:socket.io`,
    pubClient: adapterPub,
    subClient: adapterSub,
  });
  userEvents.attach(io.of('/chat'));
  const wss = attachWebSocket(server, connectionDeps, { origins, authenticator, logger });
  const baseline = config.LOADTEST_BASELINE ? attachBaseline(server, logger) : undefined;

  // Not ready first, while everything still works: the load balancer stops sending new connections.
  shutdown.add('drain', async () => {
    draining = true;
    logger.info('draining: /readyz answers 503', { drainSeconds: config.SHUTDOWN_DRAIN_SECONDS });
    if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
  });
  // Client connections still talk to Redis while they close: they go first, Redis and the stores last.
  shutdown.add('intake', () => {
    connections.stopAccepting();
    server.close();
  });
  shutdown.add('connections', async () => {
    await connections.closeAll();
    await io.close();
    wss.close();
    for (const client of baseline?.clients ?? []) client.terminate();
    baseline?.close();
    server.closeAllConnections();
  });
  shutdown.add('presence', () => Promise.all([presence.stop(), userConnections.stop()]));
  shutdown.add('queues', () => Promise.all([queue.close(), ingestion.close()]));
  shutdown.add('redis', () => Promise.all([redis.quit(), frameSubscriber.quit(), adapterPub.quit(), adapterSub.quit()]));
  shutdown.add('stores', () => Promise.all([store.close(), knowledge.close()]));

  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info('api node listening', { host: config.HOST, port, store: store.kind, pid: process.pid });
  if (verifier === undefined) {
    logger.warn(
      'authentication is off: every client is the userId it sends and can reach every chat; allowed only on localhost. Set AUTH_JWT_SECRET or AUTH_JWKS_URL to turn it on',
      { host: config.HOST },
    );
  } else {
    // Which checks apply, never the secret.
    logger.info('authentication is on', {
      verifier: verifier.key.kind === 'secret' ? 'HS256 (AUTH_JWT_SECRET)' : `RS256/ES256 (AUTH_JWKS_URL ${verifier.key.url})`,
      issuer: verifier.issuer ?? null,
      audience: verifier.audience ?? null,
      organisationClaim: verifier.organisationClaim,
    });
  }
  if (config.ADMIN_TOKEN === undefined) {
    logger.warn(
      verifier === undefined
        ? 'ADMIN_TOKEN is not set: /admin answers 401 to everyone'
        : 'ADMIN_TOKEN is not set: /admin opens to JWTs with role "admin" only',
    );
  }
}

/** The token verifier's settings, or undefined when authentication is off. */
function verifierOptions(config: ApiConfig): VerifierOptions | undefined {
  const key: VerifierKey | undefined =
    config.AUTH_JWT_SECRET !== undefined
      ? { kind: 'secret', secret: config.AUTH_JWT_SECRET }
      : config.AUTH_JWKS_URL !== undefined
        ? { kind: 'jwks', url: config.AUTH_JWKS_URL }
        : undefined;
  if (key === undefined) return undefined;
  return {
    key,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    organisationClaim: config.AUTH_ORG_CLAIM,
    defaultOrganisationId: DEFAULT_ORGANISATION_ID,
  };
}

/** EventSource cannot set headers: its stream takes the token as `?token=`. */
function isEventStream(req: Request): boolean {
  return req.method === 'GET' && /^\/chat\/[^/]+\/events\/?$/.test(req.baseUrl + req.path);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`api: ${err.message}\n`);
  else process.stderr.write(`api: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
