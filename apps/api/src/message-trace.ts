import { randomBytes } from 'node:crypto';
import { traceIdSchema } from '@ragstream/protocol';
import type { Logger } from '@ragstream/runtime';

/** One user message's (or upload's) way through this node: its trace id, and a logger that writes it on every line. */
export interface MessageTrace {
  readonly traceId: string;
  readonly log: Logger;
}

/** Starts a trace under `log` with the client's trace id when it sent a usable one, a fresh one otherwise. */
export function startTrace(log: Logger, incoming?: string): MessageTrace {
  const traceId = incoming ?? newTraceId();
  return { traceId, log: log.child({ traceId }) };
}

/** 32 hex digits, the W3C trace-context form, so that our ids and a traceparent's look alike. */
export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * A REST client's own trace id: the trace-id of a valid `traceparent`, else an
 * `X-Request-Id` that the job schema accepts; undefined when neither is usable.
 */
export function incomingTraceId(header: (name: string) => string | undefined): string | undefined {
  const parent = TRACEPARENT.exec(header('traceparent')?.trim() ?? '')?.[1];
  // An all-zero trace-id is invalid in W3C trace context.
  if (parent !== undefined && !/^0+$/.test(parent)) return parent;
  const requestId = traceIdSchema.safeParse(header('x-request-id')?.trim());
  return requestId.success ? requestId.data : undefined;
}
