import { z } from 'zod';

/** Chat and message ids are 24-hex-digit strings (MongoDB ObjectId form) in every adapter. */
export const OBJECT_ID_PATTERN = /^[0-9a-f]{24}$/;

export const objectIdSchema = z.string().regex(OBJECT_ID_PATTERN, 'must be a 24-hex-digit id');

export function isObjectId(value: string): boolean {
  return OBJECT_ID_PATTERN.test(value);
}
