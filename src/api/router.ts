// A small method + path-pattern router for the SES v2 REST paths ("/v2/email/identities/:id").
// Path parameters are percent-decoded once here (the SDK encodes them); a malformed escape is
// a BadRequestException, an unmatched path an UnknownOperationException.
import type { Store } from '../store/port.js';
import type { Submitter } from '../core/types.js';
import type { Config } from '../config.js';
import type { AccessKey } from '../store/port.js';
import { GatewayError } from '../errors.js';
import type { Json } from './validate.js';
import type { Log } from './respond.js';

export interface RouteContext {
  store: Store;
  submitter: Submitter;
  config: Config;
  now: () => number;
  log: Log;
  caller: AccessKey;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body ({} when empty). */
  body: Json;
}

/** JSON answer (status 200 unless given) or raw bytes with a content type. */
export type RouteResult = { status?: number; json: unknown } | { status?: number; bytes: Buffer; contentType: string };

export type Handler = (ctx: RouteContext) => Promise<RouteResult>;

interface Route { method: string; parts: string[]; handler: Handler }

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Finds the route for a raw (still encoded) path. Throws UnknownOperation when none. */
  match(method: string, rawPath: string): { handler: Handler; params: Record<string, string> } {
    const segs = rawPath.split('/').filter(Boolean);
    let pathMatched = false;
    for (const r of this.routes) {
      if (r.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const want = r.parts[i]!;
        const got = segs[i]!;
        if (want.startsWith(':')) {
          try {
            params[want.slice(1)] = decodeURIComponent(got);
          } catch {
            throw new GatewayError('BadRequest', 'The request path is not valid percent-encoding.');
          }
        } else if (want !== got) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method === method) return { handler: r.handler, params };
    }
    throw new GatewayError('UnknownOperation', pathMatched ? `Method ${method} is not allowed on ${rawPath.slice(0, 200)}.` : `Unknown operation ${method} ${rawPath.slice(0, 200)}.`);
  }
}
