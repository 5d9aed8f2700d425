// Webhook sink: one POST per notification, signed per Standard Webhooks (webhook-id =
// eventId, so redeliveries carry the same id). Status mapping: 2xx done; 408/429/5xx and
// network errors retry (Retry-After honoured by the dispatcher); 410 disables the
// destination; other 3xx/4xx dead-letter. Trusts nothing the receiver sends back: the
// response body is drained, bounded, and ignored. Never logs the URL or the secret.
import http from 'node:http';
import https from 'node:https';
import { checkLiteralHost, guardedLookup, PRIVATE_ADDRESS } from './address-guard.js';
import { parseRetryAfter } from './backoff.js';
import { signingSecretProblem, signWebhook } from './webhook-signature.js';
import type { Sink, SinkItem, SinkOutcome } from './sink.js';
import type { Destination } from '../store/port.js';

export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Concurrent POSTs per destination (the dispatcher's batch size for webhooks). */
export const WEBHOOK_CONCURRENCY = 16;
/** Response bytes read before the connection is dropped (we only need the status). */
const MAX_RESPONSE_BYTES = 64 * 1024;
export const USER_AGENT = 'mailbeacon/0.1 (+https://github.com/mailbeacon)';

export interface WebhookSinkOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
  now?: () => number;
}

export function createWebhookSink(opts: WebhookSinkOptions): Sink {
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const lookup = guardedLookup(opts.allowPrivate);
  // No per-host socket cap: destinations sharing a receiver host must not share a queue, or a
  // hanging one would hold every socket and stall the rest. Concurrency is bounded per
  // destination by the batch size instead.
  const agentOpts = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: WEBHOOK_CONCURRENCY, lookup } as http.AgentOptions;
  const httpAgent = new http.Agent(agentOpts);
  const httpsAgent = new https.Agent(agentOpts);

  function post(dest: Destination, item: SinkItem, signal: AbortSignal): Promise<SinkOutcome> {
    const settings = dest.settings as { Url?: unknown; SigningSecret?: unknown };
    if (typeof settings.Url !== 'string') return Promise.resolve({ result: 'dead', status: 'destination has no Url' });
    let url: URL;
    try {
      url = new URL(settings.Url);
    } catch {
      return Promise.resolve({ result: 'dead', status: 'destination Url is not a valid URL' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve({ result: 'dead', status: 'destination Url must be http(s)' });
    try {
      checkLiteralHost(url.hostname, opts.allowPrivate);
    } catch (e) {
      return Promise.resolve({ result: 'dead', status: `refused: ${(e as Error).message}` });
    }

    const id = item.job.event.eventId;
    const ts = Math.floor(now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(item.body)),
      'user-agent': USER_AGENT,
      'webhook-id': id,
      'webhook-timestamp': String(ts),
    };
    if (typeof settings.SigningSecret === 'string' && settings.SigningSecret !== '') {
      const problem = signingSecretProblem(settings.SigningSecret);
      if (problem) return Promise.resolve({ result: 'dead', status: problem });
      headers['webhook-signature'] = signWebhook(settings.SigningSecret, id, ts, item.body);
    }
    if (url.username) {
      headers.authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
    }

    return new Promise<SinkOutcome>((resolve) => {
      let done = false;
      const finish = (o: SinkOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(o);
      };
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: 'POST',
        headers,
        agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
        lookup,
      } as http.RequestOptions, (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('error', () => { /* status already known; body is ignored */ });
        res.on('close', () => finish(classify(status, res.headers['retry-after'])));
      });
      const onAbort = (): void => {
        req.destroy(new Error('aborted'));
        finish({ result: 'retry', status: 'aborted (shutdown)' });
      };
      const timer = setTimeout(() => {
        req.destroy(new Error('timeout'));
        finish({ result: 'retry', status: `timeout after ${timeoutMs} ms` });
      }, timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === PRIVATE_ADDRESS) finish({ result: 'dead', status: `refused: ${err.message}` });
        else finish({ result: 'retry', status: `network error: ${err.code ?? err.message}` });
      });
      req.end(item.body);
    });
  }

  function classify(status: number, retryAfter: string | undefined): SinkOutcome {
    const s = String(status);
    if (status >= 200 && status < 300) return { result: 'delivered', status: s };
    if (status === 408 || status === 429 || status >= 500) {
      const ms = parseRetryAfter(retryAfter, now());
      return ms === undefined ? { result: 'retry', status: s } : { result: 'retry', status: s, retryAfterMs: ms };
    }
    if (status === 410) return { result: 'disable', status: s, reason: 'webhook answered 410 Gone' };
    return { result: 'dead', status: status >= 300 && status < 400 ? `${s} (redirects are not followed)` : s };
  }

  return {
    batchSize: WEBHOOK_CONCURRENCY,
    deliver(dest, items, signal) {
      return Promise.all(items.map((item) => post(dest, item, signal)));
    },
    async close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
