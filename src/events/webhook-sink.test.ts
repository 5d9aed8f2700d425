// Unit tests of the webhook sink against a real local HTTP server: headers and Standard
// Webhooks signature (checked by the standardwebhooks library and by our own verifier),
// status mapping, timeouts, network errors, keep-alive reuse, shutdown abort.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookSink } from './webhook-sink.js';
import { verifyWebhook } from './webhook-signature.js';
import { fullJitterBackoff, parseRetryAfter, BACKOFF_CAP_MS, BACKOFF_FLOOR_MS } from './backoff.js';
import type { Destination, NotificationJob } from '../store/port.js';
import type { SinkItem } from './sink.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;
let handler: Handler = (_q, _b, res) => res.end();
let server: http.Server;
let base: string;
let connections = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const c: Buffer[] = [];
    req.on('data', (b: Buffer) => c.push(b));
    req.on('end', () => handler(req, Buffer.concat(c).toString(), res));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const job: NotificationJob = {
  id: 7, destinationId: 1, attempts: 0, createdAt: 0, mail: { messageId: 'm1' },
  event: { messageId: 'm1', seq: 2, eventId: 'm1:2', kind: 'Open', at: 0, detail: { ipAddress: '1.2.3.4' } },
};
const item: SinkItem = { job, body: JSON.stringify({ eventType: 'Open', eventId: 'm1:2', mail: { messageId: 'm1' }, open: {} }) };
const dest = (settings: Record<string, unknown>): Destination => ({
  id: 1, configSetName: 'cs', name: 'd', enabled: true, matchingEventTypes: ['OPEN'], kind: 'webhook', settings, disabledReason: null, createdAt: 0,
});
const live = () => new AbortController().signal;

describe('webhook sink', () => {
  it('POSTs the body with Standard Webhooks headers that verify independently', async () => {
    let seen: { headers: http.IncomingHttpHeaders; body: string; method?: string } | undefined;
    handler = (req, body, res) => { seen = { headers: req.headers, body, method: req.method }; res.writeHead(204).end(); };
    const sink = createWebhookSink({ allowPrivate: true });
    const [o] = await sink.deliver(dest({ Url: `${base}/hook?x=1`, SigningSecret: SECRET }), [item], live());
    await sink.close();
    expect(o).toEqual({ result: 'delivered', status: '204' });
    expect(seen!.method).toBe('POST');
    expect(seen!.body).toBe(item.body);
    expect(seen!.headers['content-type']).toBe('application/json');
    expect(seen!.headers['user-agent']).toMatch(/^mailbeacon\//);
    expect(seen!.headers['webhook-id']).toBe('m1:2');
    const ts = Number(seen!.headers['webhook-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
    expect(seen!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(() => new Webhook(SECRET).verify(seen!.body, seen!.headers as Record<string, string>)).not.toThrow();
    expect(verifyWebhook(SECRET, 'm1:2', ts, seen!.body, String(seen!.headers['webhook-signature']))).toBe(true);
    expect(verifyWebhook(SECRET, 'm1:2', ts, seen!.body + ' ', String(seen!.headers['webhook-signature']))).toBe(false);
  });

  it('sends no signature without a secret, and basic auth from URL credentials', async () => {
    let headers: http.IncomingHttpHeaders = {};
    handler = (req, _b, res) => { headers = req.headers; res.end(); };
    const sink = createWebhookSink({ allowPrivate: true });
    const [o] = await sink.deliver(dest({ Url: base.replace('http://', 'http://user:p%40ss@') + '/a' }), [item], live());
    await sink.close();
    expect(o!.result).toBe('delivered');
    expect(headers['webhook-signature']).toBeUndefined();
    expect(headers.authorization).toBe('Basic ' + Buffer.from('user:p@ss').toString('base64'));
  });

  it('maps statuses: 408/429/5xx retry (with Retry-After), 410 disable, 3xx/other 4xx dead', async () => {
    const cases: [number, Record<string, string>, unknown][] = [
      [408, {}, { result: 'retry', status: '408' }],
      [429, { 'retry-after': '7' }, { result: 'retry', status: '429', retryAfterMs: 7000 }],
      [500, {}, { result: 'retry', status: '500' }],
      [503, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }, expect.objectContaining({ result: 'retry', status: '503' })],
      [410, {}, { result: 'disable', status: '410', reason: 'webhook answered 410 Gone' }],
      [400, {}, { result: 'dead', status: '400' }],
      [404, {}, { result: 'dead', status: '404' }],
      [302, { location: 'http://169.254.169.254/' }, { result: 'dead', status: '302 (redirects are not followed)' }],
    ];
    const sink = createWebhookSink({ allowPrivate: true });
    for (const [status, hdrs, want] of cases) {
      handler = (_q, _b, res) => { res.writeHead(status, hdrs).end('x'.repeat(200_000)); }; // big bodies are drained or dropped
      const [o] = await sink.deliver(dest({ Url: base, SigningSecret: SECRET }), [item], live());
      expect(o, String(status)).toEqual(want);
    }
    await sink.close();
  });

  it('reuses a keep-alive connection across deliveries', async () => {
    handler = (_q, _b, res) => res.end('ok');
    const sink = createWebhookSink({ allowPrivate: true });
    const before = connections;
    for (let i = 0; i < 5; i++) expect((await sink.deliver(dest({ Url: base }), [item], live()))[0]!.result).toBe('delivered');
    expect(connections - before).toBe(1);
    await sink.close();
  });

  it('times out, reports network errors, and stops on abort — all as retries', async () => {
    handler = () => { /* never answers */ };
    const sink = createWebhookSink({ allowPrivate: true, timeoutMs: 150 });
    const t0 = Date.now();
    const [o] = await sink.deliver(dest({ Url: base }), [item], live());
    expect(o).toEqual({ result: 'retry', status: 'timeout after 150 ms' });
    expect(Date.now() - t0).toBeLessThan(2_000);

    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const [refused] = await sink.deliver(dest({ Url: `http://127.0.0.1:${port}/` }), [item], live());
    expect(refused).toEqual({ result: 'retry', status: 'network error: ECONNREFUSED' });

    const ac = new AbortController();
    const p = sink.deliver(dest({ Url: base }), [item], ac.signal);
    setTimeout(() => ac.abort(), 20);
    expect((await p)[0]).toEqual({ result: 'retry', status: 'aborted (shutdown)' });
    await sink.close();
  });

  it('dead-letters bad URLs and private addresses without connecting', async () => {
    const sink = createWebhookSink({ allowPrivate: false });
    const before = connections;
    const outs = await sink.deliver(dest({ Url: 'ftp://x/' }), [item], live());
    expect(outs[0]).toEqual({ result: 'dead', status: 'destination Url must be http(s)' });
    expect((await sink.deliver(dest({}), [item], live()))[0]!.result).toBe('dead');
    expect((await sink.deliver(dest({ Url: 'http://' }), [item], live()))[0]!.result).toBe('dead');
    expect((await sink.deliver(dest({ Url: 'http://example.com/', SigningSecret: 'whsec_not base64!' }), [item], live()))[0])
      .toEqual({ result: 'dead', status: 'SigningSecret must be "whsec_" followed by a base64 key' });
    const [priv] = await sink.deliver(dest({ Url: base }), [item], live());
    expect(priv!.result).toBe('dead');
    expect((priv as { status: string }).status).toMatch(/^refused: 127\.0\.0\.1 resolves to a non-public address/);
    expect(connections).toBe(before);
    await sink.close();
  });
});

describe('backoff', () => {
  it('full jitter within a doubling window, floored and capped', () => {
    expect(fullJitterBackoff(1, () => 0.999)).toBe(999);
    expect(fullJitterBackoff(4, () => 0.5)).toBe(4000);
    expect(fullJitterBackoff(1, () => 0)).toBe(BACKOFF_FLOOR_MS);
    expect(fullJitterBackoff(100, () => 0.999999)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
  });
  it('parses Retry-After seconds and dates, ignores junk', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter('-5', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});
