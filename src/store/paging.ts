// Bounds and page tokens shared by every store adapter, so paging behaves (and tokens look)
// the same whichever store runs: every queue and list is read in bounded batches, and a
// NextToken is opaque to clients but checked strictly when it comes back.
import { GatewayError } from '../errors.js';

/** Upper bound of any one page or batch, whatever the caller asks: queues are read in bounded batches. */
export const MAX_BATCH = 1000;

/** Bound on lists the port returns whole (keys, destinations): a safety net, not paging. */
export const LIST_CAP = 10_000;

/** A positive integer no larger than MAX_BATCH; NaN or <1 is a caller bug, not "no limit". */
export function boundLimit(limit: number): number {
  if (!Number.isFinite(limit) || limit < 1) throw new RangeError(`limit must be a positive number, got ${limit}`);
  return Math.min(Math.floor(limit), MAX_BATCH);
}

/** Opaque token: base64url of a JSON array holding the last key of the previous page. */
export function encodeToken(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a token made by encodeToken with the given key shape; anything else is the client's error. */
export function decodeToken(token: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length || parsed.some((v, i) => typeof v !== shape[i])
    || parsed.some((v) => typeof v === 'number' && !Number.isSafeInteger(v))
    || parsed.some((v) => typeof v === 'string' && v.includes('\u0000'))) {
    throw new GatewayError('BadRequest', 'The NextToken is not valid.');
  }
  return parsed as (string | number)[];
}
