import { describeIssues, isObjectId } from '@ragstream/protocol';
import type { z } from 'zod';
import { ApiError } from '../api-error.ts';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw new ApiError('invalid_body', describeIssues(result.error));
  return result.data;
}

export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query);
  if (!result.success) throw new ApiError('invalid_query', describeIssues(result.error));
  return result.data;
}

/** Malformed ids are simply ids that do not exist: 404, like unknown ones. */
export function chatIdParam(value: unknown): string {
  const id = String(value);
  if (!isObjectId(id)) throw new ApiError('chat_not_found', `chat ${id} does not exist`);
  return id;
}

export function messageIdParam(value: unknown): string {
  const id = String(value);
  if (!isObjectId(id)) throw new ApiError('message_not_found', `message ${id} does not exist`);
  return id;
}
