// The notification dispatcher against a real SQLite store and real HTTP webhook receivers
// that verify every request with the `standardwebhooks` library (an independent check of our
// signing). Covers retries with stable ids, Retry-After, 410 disable, 4xx dead letters,
// replay, isolation of a dead destination, per-message order and the private-address guard.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher, type DispatcherDeps } from '../src/events/dispatcher.js';
import { checkWebhookUrl, isPublicAddress } from '../src/events/address-guard.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Destination, Store } from '../src/store/port.js';

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');

interface Received { path: string; id: string; ts: string; body: string; eventId: string; verified: boolean; at: number; status: number }
type Answer = (r: Received, nth: number) => { status: number; headers?: Record<string, string> } | 'hang';

/** A webhook receiver: per path an answering rule, and a log of every request it got. */
class Receiver {
  readonly got: Received[] = [];
  readonly rules = new Map<string, Answer>();
  server!: http.Server;
  base = '';
  private readonly hanging = new Set<http.ServerResponse>();
  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let verified = false;
        try {
          new Webhook(SECRET).verify(body, req.headers as Record<string, string>);
          verified = true;
        } catch { /* recorded as unverified */ }
        const p = (req.url ?? '/').split('?')[0]!;
        let eventId = '';
        try { eventId = (JSON.parse(body) as { eventId: string }).eventId; } catch { /* not JSON */ }
        const r: Received = { path: p, id: String(req.headers['webhook-id']), ts: String(req.headers['webhook-timestamp']), body, eventId, verified, at: Date.now(), status: 0 };
        const nth = this.got.filter((g) => g.path === p).length;
        this.got.push(r);
        const a = (this.rules.get(p) ?? ((): ReturnType<Answer> => ({ status: 200 })))(r, nth);
        if (a === 'hang') {
          this.hanging.add(res);
          return;
        }
        r.status = a.status;
        res.writeHead(a.status, a.headers ?? {});
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  on(p: string): Received[] { return this.got.filter((g) => g.path === p); }
  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let dir: string;
let store: Store;
let rx: Receiver;
const dispatchers: Dispatcher[] = [];
let setN = 0;
let msgN = 0;

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function start(over: Partial<DispatcherDeps> = {}): Dispatcher {
  const d = startDispatcher({
    store, config: { allowPrivateWebhooks: true, notificationMaxAgeMs: 60_000 },
    pollMs: 30, backoff: () => 30, webhookTimeoutMs: 2_000, ...over,
  });
  dispatchers.push(d);
  return d;
}

/** A configuration set with one webhook destination per path. */
async function setWith(paths: string[], url = (p: string) => rx.base + p): Promise<Destination[]> {
  const name = `set-${++setN}`;
  await store.createConfigSet({ name, createdAt: Date.now(), options: {} });
  const out: Destination[] = [];
  for (const p of paths) {
    out.push(await store.createDestination({
      configSetName: name, name: `hook${p.replace(/\W/g, '-')}`, enabled: true, matchingEventTypes: ['SEND', 'OPEN'],
      kind: 'webhook', settings: { Url: url(p), SigningSecret: SECRET }, disabledReason: null, createdAt: Date.now(),
    }));
  }
  return out;
}

/** Accepts a message with a Send event and `opens` Open events; returns the expected eventIds. */
async function message(dests: Destination[], opens = 0): Promise<string[]> {
  const id = `0100-msg-${++msgN}-${Math.random().toString(36).slice(2, 8)}`;
  const at = Date.now();
  await store.acceptMessage({
    id, acceptedAt: at, identity: 'example.com', mailFrom: 'a@example.com', configSetName: dests[0]!.configSetName,
    recipients: ['b@example.org'], tracked: true, injectOutcome: 'injected',
    mail: { timestamp: new Date(at).toISOString(), messageId: id, identityId: 'example.com', commonHeaders: { from: ['a@example.com'], to: ['b@example.org'], subject: 'hi' }, tags: {} },
    raw: Buffer.from('Subject: hi\r\n\r\nhi\r\n'), deliveryOptions: {},
  }, dests.map((d) => ({ destinationId: d.id, eventTypes: ['SEND', 'OPEN'] })), [{ kind: 'Send', at, detail: {} }]);
  if (opens > 0) {
    await store.recordOpens(Array.from({ length: opens }, (_, k) => ({ messageId: id, at: at + k, ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0' })));
  }
  return Array.from({ length: opens + 1 }, (_, k) => `${id}:${k + 1}`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-dispatch-'));
  const s = openSqliteStore({ file: path.join(dir, 'db.sqlite') });
  await s.init();
  store = s;
  rx = new Receiver();
  await rx.start();
});

afterAll(async () => {
  await Promise.all(dispatchers.map((d) => d.close()));
  await rx?.stop();
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dispatcher (webhook)', () => {
  it('retries 503s until 200: every event arrives, signed, with stable ids, in order per message', async () => {
    // 503 for the first 6 requests, then a flaky 1-in-3 503, so redeliveries interleave.
    rx.rules.set('/retry', (_r, nth) => ({ status: nth < 6 || nth % 3 === 0 ? 503 : 200 }));
    const dests = await setWith(['/retry']);
    const expected: string[] = [];
    for (let i = 0; i < 5; i++) expected.push(...(await message(dests, 3)));
    const d = start();
    d.kick();
    await until(() => new Set(rx.on('/retry').filter((r) => r.status === 200).map((r) => r.eventId)).size === expected.length, 15_000, 'all events');

    const got = rx.on('/retry');
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got.every((r) => r.id === r.eventId)).toBe(true); // webhook-id = eventId
    expect(new Set(got.filter((r) => r.status === 200).map((r) => r.eventId))).toEqual(new Set(expected));
    // A redelivery is the same document under the same id.
    const bodies = new Map<string, string>();
    for (const r of got) {
      if (bodies.has(r.id)) expect(r.body).toBe(bodies.get(r.id));
      bodies.set(r.id, r.body);
    }
    expect(got.length).toBeGreaterThan(expected.length); // there were redeliveries
    // Per message, attempts never go back to an earlier event once a later one was sent.
    const byMsg = new Map<string, number[]>();
    for (const r of got) {
      const [mid, seq] = [r.eventId.slice(0, r.eventId.lastIndexOf(':')), Number(r.eventId.slice(r.eventId.lastIndexOf(':') + 1))];
      byMsg.set(mid, [...(byMsg.get(mid) ?? []), seq]);
    }
    for (const seqs of byMsg.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // The receiver's 200 comes before the store is told: wait for the last marks.
    await until(async () => (await store.listNotifications({ destinationId: dests[0]!.id, state: 'delivered' }, 1000)).length === expected.length, 5_000, 'delivered rows');
    const rows = await store.listNotifications({ destinationId: dests[0]!.id }, 1000);
    expect(rows.map((r) => r.state)).toEqual(expected.map(() => 'delivered'));
    const body = JSON.parse(got[0]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ eventType: 'Send', send: {}, mail: { identityId: 'example.com' } });
  });

  it('honours Retry-After over a shorter backoff', async () => {
    rx.rules.set('/later', (_r, nth) => (nth === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    const dests = await setWith(['/later']);
    await message(dests);
    start().kick();
    await until(() => rx.on('/later').length >= 2, 10_000, 'second attempt');
    const [first, second] = rx.on('/later');
    expect(second!.id).toBe(first!.id);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950); // backoff alone would be 30 ms
    await until(async () => (await store.listNotifications({ destinationId: dests[0]!.id }, 10))[0]?.state === 'delivered', 5_000, 'delivered');
  });

  it('410 disables the destination; the other destination of the set keeps flowing', async () => {
    rx.rules.set('/gone', () => ({ status: 410 }));
    const [gone, ok] = await setWith(['/gone', '/ok410']);
    const expected: string[] = [];
    for (let i = 0; i < 3; i++) expected.push(...(await message([gone!, ok!], 1)));
    start().kick();
    await until(() => new Set(rx.on('/ok410').map((r) => r.eventId)).size === expected.length, 10_000, 'healthy events');
    await until(async () => (await store.getDestinationById(gone!.id))?.disabledReason != null
      && (await store.listNotifications({ destinationId: gone!.id, state: 'dead' }, 100)).length > 0, 5_000, 'disabled');
    const g = await store.getDestinationById(gone!.id);
    expect(g!.enabled).toBe(false);
    expect(g!.disabledReason).toMatch(/410/);
    const dead = await store.listNotifications({ destinationId: gone!.id, state: 'dead' }, 100);
    expect(dead.length).toBeGreaterThanOrEqual(1);
    expect(dead[0]!.lastStatus).toBe('410');
    // Once disabled, nothing more is sent to it: give the dispatcher time, then count again.
    const n = rx.on('/gone').length;
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.on('/gone').length).toBe(n);
    expect(n).toBeLessThan(expected.length);
  });

  it('another 4xx dead-letters at once; replay re-sends dead and delivered-in-range events', async () => {
    let answer = 400;
    rx.rules.set('/bad', () => ({ status: answer }));
    const [dest] = await setWith(['/bad']);
    const ids = await message([dest!]);
    start().kick();
    await until(async () => (await store.listNotifications({ destinationId: dest!.id, state: 'dead' }, 10)).length === 1, 5_000, 'dead letter');
    const [row] = await store.listNotifications({ destinationId: dest!.id, state: 'dead' }, 10);
    expect(row).toMatchObject({ eventId: ids[0], lastStatus: '400', attempts: 1 });
    expect(rx.on('/bad')).toHaveLength(1);

    answer = 200;
    expect(await store.replayNotifications(dest!.id, { states: ['dead'] }, Date.now())).toBe(1);
    dispatchers.at(-1)!.kick();
    await until(() => rx.on('/bad').length === 2, 5_000, 'replayed dead letter');
    await until(async () => (await store.listNotifications({ destinationId: dest!.id, state: 'delivered' }, 10)).length === 1, 5_000, 'delivered');

    // Delivered events in a time range go out again, same id and body.
    const since = Date.now() - 60_000;
    expect(await store.replayNotifications(dest!.id, { states: ['delivered'], since }, Date.now())).toBe(1);
    dispatchers.at(-1)!.kick();
    await until(() => rx.on('/bad').length === 3, 5_000, 'replayed delivered');
    const got = rx.on('/bad');
    expect(got[2]!.id).toBe(ids[0]);
    expect(got[2]!.body).toBe(got[1]!.body);
    expect(got[2]!.verified).toBe(true);
  });

  it('a dead (hanging or 503) destination does not delay a healthy one', async () => {
    rx.rules.set('/hang', () => 'hang');
    rx.rules.set('/down', () => ({ status: 503 }));
    const [hang, down, healthy] = await setWith(['/hang', '/down', '/healthy']);
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) expected.push(...(await message([hang!, down!, healthy!], 1)));
    const t0 = Date.now();
    start({ webhookTimeoutMs: 8_000 }).kick();
    await until(() => new Set(rx.on('/healthy').map((r) => r.eventId)).size === expected.length, 7_000, 'healthy destination');
    const took = Date.now() - t0;
    // The hanging receiver holds its requests for the full 8 s timeout; the healthy one is done long before.
    expect(took).toBeLessThan(4_000);
    expect(rx.on('/hang').length).toBeGreaterThan(0);
    expect(rx.on('/hang').every((r) => r.status === 0)).toBe(true);
    expect((await store.listNotifications({ destinationId: hang!.id, state: 'delivered' }, 100))).toHaveLength(0);
  });

  it('a retry past notificationMaxAgeMs is dead-lettered', async () => {
    rx.rules.set('/old', () => ({ status: 500 }));
    const [dest] = await setWith(['/old']);
    await message([dest!]);
    start({ config: { allowPrivateWebhooks: true, notificationMaxAgeMs: 1_500 } }).kick();
    await until(async () => (await store.listNotifications({ destinationId: dest!.id, state: 'dead' }, 10)).length === 1, 5_000, 'expiry');
    const [row] = await store.listNotifications({ destinationId: dest!.id }, 10);
    expect(row!.lastStatus).toMatch(/gave up after \d+ attempts; last: 500/);
    expect(rx.on('/old').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses loopback/private destinations unless allowed', async () => {
    const port = new URL(rx.base).port;
    const [lit, named] = await setWith(['/private-literal', '/private-named'], (p) =>
      p === '/private-literal' ? `http://127.0.0.1:${port}${p}` : `http://localhost:${port}${p}`);
    await message([lit!, named!]);
    start({ config: { allowPrivateWebhooks: false, notificationMaxAgeMs: 60_000 } }).kick();
    await until(async () => (await store.listNotifications({ destinationId: named!.id, state: 'dead' }, 10)).length === 1
      && (await store.listNotifications({ destinationId: lit!.id, state: 'dead' }, 10)).length === 1, 5_000, 'refusals');
    const rows = [...await store.listNotifications({ destinationId: lit!.id }, 10), ...await store.listNotifications({ destinationId: named!.id }, 10)];
    for (const r of rows) expect(r.lastStatus).toMatch(/refused: .*non-public address/);
    expect(rx.on('/private-literal')).toHaveLength(0);
    expect(rx.on('/private-named')).toHaveLength(0);
  });
});

describe('dispatcher shutdown and odd destinations', () => {
  it('close() aborts in-flight requests at once and leaves them pending, due now', async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.close())); // only this test's dispatcher runs
    rx.rules.set('/shutdown', () => 'hang');
    const [dest] = await setWith(['/shutdown']);
    await message([dest!]);
    const d = start({ webhookTimeoutMs: 10_000 });
    d.kick();
    await until(() => rx.on('/shutdown').length === 1, 5_000, 'request in flight');
    const t0 = Date.now();
    await d.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
    const [row] = await store.listNotifications({ destinationId: dest!.id }, 10);
    expect(row).toMatchObject({ state: 'pending', lastStatus: 'aborted (shutdown)' });
    expect(row!.nextAttemptAt).toBeLessThanOrEqual(Date.now());
    // A new dispatcher (a restart) picks it up again with the same id.
    rx.rules.set('/shutdown', () => ({ status: 200 }));
    start().kick();
    await until(async () => (await store.listNotifications({ destinationId: dest!.id, state: 'delivered' }, 10)).length === 1, 5_000, 'redelivery after restart');
    expect(rx.on('/shutdown').map((r) => r.id)).toEqual([`${row!.eventId}`, `${row!.eventId}`]);
  });

  it('dead-letters rows of a destination type without a sink', async () => {
    await store.createConfigSet({ name: 'set-other', createdAt: Date.now(), options: {} });
    const other = await store.createDestination({
      configSetName: 'set-other', name: 'sns', enabled: true, matchingEventTypes: ['SEND'], kind: 'other',
      settings: { SnsDestination: { TopicArn: 'arn:aws:sns:us-east-1:1:t' } }, disabledReason: null, createdAt: Date.now(),
    });
    await message([other]);
    dispatchers.at(-1)!.kick();
    await until(async () => (await store.listNotifications({ destinationId: other.id, state: 'dead' }, 10)).length === 1, 5_000, 'dead letter');
    const [row] = await store.listNotifications({ destinationId: other.id }, 10);
    expect(row!.lastStatus).toBe('no sink for destination type "other"');
  });
});

describe('address guard', () => {
  it('classifies addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '0.0.0.0', '100.64.0.1', 'not-an-ip']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111']) expect(isPublicAddress(a), a).toBe(true);
  });
  it('checkWebhookUrl refuses bad schemes and private hosts, allows them when configured', async () => {
    await expect(checkWebhookUrl('ftp://example.com/x', false)).rejects.toThrow(/http/);
    await expect(checkWebhookUrl('not a url', false)).rejects.toThrow(/valid URL/);
    await expect(checkWebhookUrl('http://[::1]:8080/x', false)).rejects.toThrow(/non-public/);
    await expect(checkWebhookUrl('http://localhost/x', false)).rejects.toThrow(/non-public/);
    await expect(checkWebhookUrl('http://127.0.0.1/x', true)).resolves.toBeInstanceOf(URL);
  });
});
