// The SES v2 / Yandex Cloud Postbox-compatible HTTP API (restJson1 over node:http) plus our
// /v2/mailbeacon/ extension. Every request: bounded body read -> SigV4 verification against the
// store's access keys -> route -> JSON answer, or an error in SES shape. Trusts nothing from
// the network; holds no state of its own (store, submitter and config are passed in).
import http from 'node:http';
import type { Config } from '../config.js';
import type { Submitter } from '../core/types.js';
import type { Store } from '../store/port.js';
import { checkDeclaredLength, readBody, parseJsonObject } from './body.js';
import { type Log, sendBytes, sendError, sendJson } from './respond.js';
import { type RouteContext, Router } from './router.js';
import { checkAuthHeaders, verifySignature } from './sigv4.js';
import { sendEmail } from './send-email.js';
import { type RateLimit, SendRateLimiter } from './rate-limit.js';
import * as cs from './config-sets.js';
import * as ed from './event-destinations.js';
import * as id from './identities.js';
import * as mb from './mailbeacon.js';

export interface ApiDeps {
  store: Store;
  submitter: Submitter;
  config: Config;
  now?: () => number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** SendEmail calls per access key (SES maximum send rate); none when absent. */
  sendRateLimit?: RateLimit;
}

/** Base64 grows a message by 4/3 plus line breaks; JSON members add a little. */
export function bodyLimit(config: Config): number {
  return Math.ceil(config.maxMessageBytes * 1.4) + 64 * 1024;
}

export function buildRouter(limiter?: SendRateLimiter): Router {
  const r = new Router();
  const CS = '/v2/email/configuration-sets/:name';
  const send = limiter
    ? (ctx: RouteContext) => {
      limiter.take(ctx.caller.id);
      return sendEmail(ctx);
    }
    : sendEmail;
  r.add('POST', '/v2/email/outbound-emails', send)
    .add('POST', '/v2/email/configuration-sets', cs.createConfigurationSet)
    .add('GET', '/v2/email/configuration-sets', cs.listConfigurationSets)
    .add('POST', '/v2/email/list-configuration-sets', cs.listConfigurationSets)
    .add('GET', CS, cs.getConfigurationSet)
    .add('DELETE', CS, cs.deleteConfigurationSet)
    .add('PUT', `${CS}/delivery-options`, cs.putOptions('DeliveryOptions'))
    .add('PUT', `${CS}/tracking-options`, cs.putOptions('TrackingOptions'))
    .add('PUT', `${CS}/reputation-options`, cs.putOptions('ReputationOptions'))
    .add('PUT', `${CS}/sending`, cs.putOptions('SendingOptions'))
    .add('PUT', `${CS}/sending-options`, cs.putOptions('SendingOptions'))
    .add('PUT', `${CS}/suppression-options`, cs.putOptions('SuppressionOptions'))
    .add('POST', `${CS}/event-destinations`, ed.createEventDestination)
    .add('GET', `${CS}/event-destinations`, ed.getEventDestinations)
    .add('PUT', `${CS}/event-destinations/:dest`, ed.updateEventDestination)
    .add('DELETE', `${CS}/event-destinations/:dest`, ed.deleteEventDestination)
    .add('POST', '/v2/email/identities', id.createEmailIdentity)
    .add('GET', '/v2/email/identities', id.listEmailIdentities)
    .add('POST', '/v2/email/list-identities', id.listEmailIdentities)
    .add('GET', '/v2/email/identities/:id', id.getEmailIdentity)
    .add('DELETE', '/v2/email/identities/:id', id.deleteEmailIdentity)
    .add('PUT', '/v2/email/identities/:id/configuration-set', id.putIdentityConfigurationSet)
    .add('GET', '/v2/mailbeacon/messages', mb.listMessages)
    .add('GET', '/v2/mailbeacon/messages/:id', mb.getMessage)
    .add('GET', '/v2/mailbeacon/messages/:id/raw', mb.getMessageRaw)
    .add('GET', '/v2/mailbeacon/dead-letters', mb.listDeadLetters)
    .add('POST', '/v2/mailbeacon/destinations/:id/replay', mb.replayDestination);
  return r;
}

export function createApiHandler(deps: ApiDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const now = deps.now ?? Date.now;
  const router = buildRouter(deps.sendRateLimit ? new SendRateLimiter(deps.sendRateLimit, now) : undefined);
  const log: Log = deps.log ?? ((msg, fields) => console.error(JSON.stringify({ msg, ...fields })));
  const limit = bodyLimit(deps.config);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    checkDeclaredLength(req, limit);
    // Strangers are refused on their headers alone, before their upload is buffered.
    const auth = await checkAuthHeaders(req.headers, (k) => deps.store.getAccessKey(k), now());
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (e) {
      // Oversize: answer now and close, so the rest of the upload is not read into memory.
      sendError(res, e, log, { connection: 'close' });
      req.resume();
      return;
    }
    const caller = await verifySignature({ method, url, headers: req.headers, body }, auth);
    const qi = url.indexOf('?');
    const { handler, params } = router.match(method, qi < 0 ? url : url.slice(0, qi));
    const result = await handler({
      store: deps.store, submitter: deps.submitter, config: deps.config, now, log, caller, params,
      query: new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1)),
      body: method === 'GET' || method === 'DELETE' ? {} : parseJsonObject(body),
    });
    if ('bytes' in result) sendBytes(res, result.status ?? 200, result.contentType, result.bytes);
    else sendJson(res, result.status ?? 200, result.json);
  }

  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      // Refused before the body arrived: close rather than drain an unauthenticated upload.
      const unread = !req.complete;
      sendError(res, e, log, unread ? { connection: 'close' } : {});
      if (unread) req.resume();
    });
  };
}

export function createApiServer(deps: ApiDeps): http.Server {
  const server = http.createServer({ keepAlive: true, keepAliveTimeout: 65_000, requestTimeout: 120_000 }, createApiHandler(deps));
  // A client that sends a broken request line gets a plain 400 rather than a dropped socket.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
