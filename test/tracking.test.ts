// Whole-service tests of the public pixel listener over real HTTP with a real SQLite store.
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIXEL_GIF } from '../src/tracking/gif.js';
import { createPixelUrlFor, createTrackingServer, MAX_USER_AGENT_CHARS, TrackingKeys, type TrackingServer } from '../src/tracking/index.js';
import type { DestinationSnapshot, Store } from '../src/store/port.js';
import { acceptMessages, OPEN_DESTINATIONS, openEvents, openStore, setupConfigSet, tempDir } from './fixtures/tracking-setup.js';

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(t: TrackingServer): Promise<number> {
  await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
  return (t.server.address() as AddressInfo).port;
}

const pathOf = (url: string) => new URL(url).pathname;

function expectGif(r: Reply) {
  expect(r.status).toBe(200);
  expect(r.body.equals(PIXEL_GIF)).toBe(true);
  expect(r.body).toHaveLength(43);
  expect(r.headers['content-type']).toBe('image/gif');
  expect(r.headers['cache-control']).toBe('no-store, no-cache, must-revalidate, private, max-age=0');
  expect(r.headers.pragma).toBe('no-cache');
  expect(r.headers.expires).toBe('0');
}

describe('pixel server', () => {
  let store: Store;
  let snapshot: DestinationSnapshot[];
  let keys: TrackingKeys;
  let tracking: TrackingServer;
  let port: number;
  let kicks = 0;
  let urlFor: (id: string) => string;

  beforeAll(async () => {
    const dir = tempDir('mb-tracking-');
    store = await openStore(dir);
    snapshot = await setupConfigSet(store);
    keys = TrackingKeys.loadOrCreate(dir);
    urlFor = createPixelUrlFor('https://t.example.com', keys);
    tracking = createTrackingServer({ store, keys, config: { trustedProxies: ['127.0.0.1'] }, onRecorded: () => { kicks++; } });
    port = await listen(tracking);
  });

  afterAll(async () => {
    agent.destroy();
    await tracking.close();
    await store.close();
  });

  it('records each GET as an Open with its seq and one notification per OPEN subscription, before the GIF', async () => {
    const [id] = await acceptMessages(store, snapshot, 1);
    const path = pathOf(urlFor(id!));
    for (let i = 1; i <= 5; i++) {
      const r = await request(port, path, { headers: { 'User-Agent': `Mail/${i}`, 'X-Forwarded-For': `198.51.100.${i}` } });
      expectGif(r);
      // The answer came after the commit: the open is already readable.
      const events = await openEvents(store, id!);
      expect(events).toHaveLength(i);
    }
    const events = await openEvents(store, id!);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(5);
    expect(events[2]!.detail).toMatchObject({ ipAddress: '198.51.100.3', userAgent: 'Mail/3', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const notes = await store.listNotifications({ messageId: id! }, 100);
    const openNotes = notes.filter((n) => n.kind === 'Open');
    expect(openNotes).toHaveLength(5 * OPEN_DESTINATIONS);
    expect(openNotes.every((n) => n.state === 'pending')).toBe(true);
    expect((await store.getMessage(id!))!.openCount).toBe(5);
    expect(kicks).toBeGreaterThan(0);
  });

  it('HEAD answers the same headers and records nothing', async () => {
    const [id] = await acceptMessages(store, snapshot, 1);
    const r = await request(port, pathOf(urlFor(id!)), { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/gif');
    expect(r.headers['content-length']).toBe('43');
    expect(r.body).toHaveLength(0);
    expect(await openEvents(store, id!)).toHaveLength(0);
  });

  it('answers a bare 404 elsewhere and 405 for other methods, echoing nothing', async () => {
    for (const p of ['/', '/favicon.ico', '/p', '/healthz', '/<script>alert(1)</script>', '/P/abc.gif']) {
      const r = await request(port, p);
      expect(r.status).toBe(404);
      expect(r.body).toHaveLength(0);
      expect(r.headers['content-type']).toBeUndefined();
    }
    const [id] = await acceptMessages(store, snapshot, 1);
    const r = await request(port, pathOf(urlFor(id!)), { method: 'POST' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    expect(await openEvents(store, id!)).toHaveLength(0);
  });

  it('bounds the User-Agent and ignores a query string', async () => {
    const [id] = await acceptMessages(store, snapshot, 1);
    const r = await request(port, pathOf(urlFor(id!)) + '?cb=123', { headers: { 'User-Agent': 'x'.repeat(5000) } });
    expectGif(r);
    const [ev] = await openEvents(store, id!);
    expect((ev!.detail.userAgent as string).length).toBe(MAX_USER_AGENT_CHARS);
  });

  it('a valid token of an unknown message gets the GIF and records nothing', async () => {
    const before = tracking.metrics();
    const id = randomUUID();
    expectGif(await request(port, pathOf(urlFor(id))));
    expect(await openEvents(store, id)).toHaveLength(0);
    expect(tracking.metrics().unknown).toBe(before.unknown + 1);
    expect(tracking.metrics().opens).toBe(before.opens);
  });

  it('groups concurrent opens into shared transactions', async () => {
    const ids = await acceptMessages(store, snapshot, 10);
    const before = tracking.metrics();
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => request(port, pathOf(urlFor(ids[i % 10]!)))));
    replies.forEach(expectGif);
    const after = tracking.metrics();
    expect(after.opens - before.opens).toBe(300);
    expect(after.batches - before.batches).toBeLessThan(300);
    expect(after.largestBatch).toBeGreaterThan(1);
    for (const id of ids) {
      const events = await openEvents(store, id);
      expect(events).toHaveLength(30);
      expect(new Set(events.map((e) => e.seq)).size).toBe(30);
    }
  });

  it('survives pipelined requests from a client that hangs up before its answers', async () => {
    const [id] = await acceptMessages(store, snapshot, 1);
    const before = tracking.metrics().opens;
    const { connect } = await import('node:net');
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const reqText = `GET ${pathOf(urlFor(id!))} HTTP/1.1\r\nHost: x\r\nUser-Agent: hangup\r\n\r\n`;
    sock.write(reqText.repeat(3) + 'GARBAGE \x00\r\n\r\n');
    sock.destroy();
    for (let i = 0; i < 100 && tracking.metrics().opens < before + 1; i++) await new Promise((r) => setTimeout(r, 20));
    // Whatever the server parsed before the hang-up was committed; the server keeps serving.
    const recorded = (await openEvents(store, id!)).length;
    expect(recorded).toBe(tracking.metrics().opens - before);
    expectGif(await request(port, pathOf(urlFor(id!))));
    expect(await openEvents(store, id!)).toHaveLength(recorded + 1);
  });

  it('10,000 forged, truncated and altered tokens: GIF served, nothing recorded, all counted', async () => {
    const ids = await acceptMessages(store, snapshot, 20);
    const countsBefore = await store.counts();
    const before = tracking.metrics();
    const otherKeys = TrackingKeys.inMemory();
    const forged: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const good = keys.sign(ids[i % ids.length]!);
      let t: string;
      switch (i % 5) {
        case 0: t = randomBytes(31).toString('base64url'); break;                    // random bytes of the right size
        case 1: { const at = i % good.length; const c = good[at] === 'A' ? 'B' : 'A'; t = good.slice(0, at) + c + good.slice(at + 1); break; } // one char altered
        case 2: t = good.slice(0, i % good.length); break;                             // truncated
        case 3: t = otherKeys.sign(ids[i % ids.length]!); break;                       // signed by another key
        default: t = randomBytes(1 + (i % 60)).toString('base64url'); break;          // any length
      }
      forged.push(`/p/${t}.gif`);
    }
    const limit = 32;
    let next = 0;
    let gifs = 0;
    await Promise.all(Array.from({ length: limit }, async () => {
      while (next < forged.length) {
        const r = await request(port, forged[next++]!);
        if (r.status === 200 && r.body.equals(PIXEL_GIF) && r.headers['cache-control']?.includes('no-store')) gifs++;
      }
    }));
    expect(gifs).toBe(10_000);
    const after = tracking.metrics();
    expect(after.forged - before.forged).toBe(10_000);
    expect(after.opens).toBe(before.opens);
    expect(after.batches).toBe(before.batches);
    expect(await store.counts()).toEqual(countsBefore);
    for (const id of ids) expect(await openEvents(store, id)).toHaveLength(0);
  }, 60_000);
});

describe('pixel server without trusted proxies, and with a failing store', () => {
  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const dir = tempDir('mb-tracking-ip-');
    const store = await openStore(dir);
    const snapshot = await setupConfigSet(store);
    const keys = TrackingKeys.inMemory();
    const tracking = createTrackingServer({ store, keys, config: { trustedProxies: [] } });
    const port = await listen(tracking);
    try {
      const [id] = await acceptMessages(store, snapshot, 1);
      expectGif(await request(port, `/p/${keys.sign(id!)}.gif`, { headers: { 'X-Forwarded-For': '198.51.100.1', Forwarded: 'for=198.51.100.2' } }));
      const [ev] = await openEvents(store, id!);
      expect(ev!.detail.ipAddress).toBe('127.0.0.1');
    } finally {
      await tracking.close();
      await store.close();
    }
  });

  it('answers 503 without the GIF when the store cannot commit, and keeps serving', async () => {
    const dir = tempDir('mb-tracking-fail-');
    const store = await openStore(dir);
    const snapshot = await setupConfigSet(store);
    const [id] = await acceptMessages(store, snapshot, 1);
    const keys = TrackingKeys.inMemory();
    let failing = true;
    // The real store, with its commit failing on demand (as a full disk or a lock timeout would).
    const flaky: Store = Object.create(store, {
      recordOpens: { value: (opens: Parameters<Store['recordOpens']>[0]) => (failing ? Promise.reject(new Error('SQLITE_FULL: database or disk is full')) : store.recordOpens(opens)) },
    });
    const tracking = createTrackingServer({ store: flaky, keys, config: { trustedProxies: [] } });
    const port = await listen(tracking);
    try {
      const path = `/p/${keys.sign(id!)}.gif`;
      const replies = await Promise.all([request(port, path), request(port, path), request(port, path)]);
      for (const r of replies) {
        expect(r.status).toBe(503);
        expect(r.body).toHaveLength(0);
        expect(r.body.toString()).not.toContain('SQLITE');
      }
      expect(tracking.metrics().errors).toBe(3);
      expect(await openEvents(store, id!)).toHaveLength(0);
      failing = false;
      expectGif(await request(port, path));
      expect(await openEvents(store, id!)).toHaveLength(1);
    } finally {
      await tracking.close();
      await store.close();
    }
  });
});
