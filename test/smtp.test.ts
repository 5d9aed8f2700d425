// SMTP submission end to end with real parts only: nodemailer (and raw node:net/tls sockets)
// as the client, our listeners (STARTTLS and implicit TLS), the real Submitter over a real
// SQLite file, the real delivery worker relaying to a real smtp-server sink.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import PostalMime from 'postal-mime';
import { loadConfig, type Config } from '../src/config.js';
import { createSubmitter } from '../src/core/index.js';
import { startDeliveryWorker, type DeliveryWorker } from '../src/delivery/index.js';
import { ensureTlsMaterial, sesSmtpPassword, startSmtp } from '../src/smtp/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/port.js';
import type { Submitter } from '../src/core/types.js';
import { startSmtpSink, type SmtpSink, type Received } from './helpers/smtp-sink.js';

const KEY_ID = 'AKIAMAILBEACONSMTP01';
const SECRET = 'smtp-test-secret-0123456789abcdefghijklmn';
const REVOKED_ID = 'AKIAMAILBEACONREVOKED';
const MAX_BYTES = 64 * 1024;
const PIXEL_BASE = 'http://127.0.0.1:9/o/';


let dir: string;
let config: Config;
let store: Store;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let delivery: DeliveryWorker;
let sink: SmtpSink;
let ca: string;
let submitter: Submitter;

const password = sesSmtpPassword(SECRET, 'ru-central1');

async function messageCount(): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await store.listMessages(1000, token);
    n += page.items.length;
    token = page.nextToken ?? undefined;
  } while (token);
  return n;
}

async function waitFor<T>(fn: () => T | Promise<T>, what: string, ms = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type TransportOpts = { implicit?: boolean; user?: string; pass?: string; noAuth?: boolean; ignoreTLS?: boolean };
function transport(o: TransportOpts = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: o.implicit ? smtp.ports.smtps! : smtp.ports.smtp!,
    secure: !!o.implicit,
    requireTLS: !o.implicit && !o.ignoreTLS,
    ignoreTLS: !!o.ignoreTLS,
    // Trust the generated certificate rather than turning verification off.
    tls: { ca: [ca], servername: 'localhost' },
    auth: o.noAuth ? undefined : { user: o.user ?? KEY_ID, pass: o.pass ?? password },
    connectionTimeout: 10_000,
  } as SMTPTransport.Options);
}

const queuedId = (response: string): string => {
  const m = /^250 2\.6\.0 OK: queued as (\S+)$/.exec(response);
  if (!m) throw new Error(`unexpected reply: ${response}`);
  return m[1]!;
};

async function relayedFor(to: string, marker: string): Promise<Received> {
  return waitFor(() => sink.received.find((r) => r.to.includes(to) && r.raw.includes(marker)), `relay of ${marker}`);
}

async function sendError(p: Promise<unknown>): Promise<{ responseCode?: number; response?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { responseCode?: number; response?: string; message: string };
  }
  throw new Error('expected the send to fail');
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-smtp-e2e-'));
  sink = await startSmtpSink();
  const sinkPort = sink.port;

  config = loadConfig({
    MAILBEACON_DATA_DIR: dir,
    MAILBEACON_SMTP_LISTEN: '127.0.0.1:0',
    MAILBEACON_SMTPS_LISTEN: '127.0.0.1:0',
    MAILBEACON_RELAY_URL: `smtp://127.0.0.1:${sinkPort}`,
    MAILBEACON_MAX_MESSAGE_BYTES: String(MAX_BYTES),
    MAILBEACON_MAX_RECIPIENTS: '3',
  });
  store = openSqliteStore({ file: path.join(dir, 'mailbeacon.db') });
  await store.init();
  const now = Date.now();
  await store.createAccessKey({ id: KEY_ID, secret: SECRET, name: 'smtp', createdAt: now, revokedAt: null });
  await store.createAccessKey({ id: REVOKED_ID, secret: SECRET, name: 'old', createdAt: now, revokedAt: null });
  await store.revokeAccessKey(REVOKED_ID, now);
  await store.createIdentity({ name: 'example.com', createdAt: now, configurationSetName: null });
  await store.createConfigSet({ name: 'tracked', createdAt: now, options: {} });
  await store.createDestination({
    configSetName: 'tracked', name: 'hook', enabled: true, matchingEventTypes: ['SEND', 'DELIVERY', 'OPEN'],
    kind: 'webhook', settings: { Url: 'http://127.0.0.1:9/hook' }, disabledReason: null, createdAt: now,
  });

  submitter = createSubmitter({ store, config, pixelUrlFor: (id) => `${PIXEL_BASE}${id}.gif` });
  delivery = startDeliveryWorker({ store, config });
  smtp = await startSmtp({ store, submitter, config, onAccepted: () => delivery.kick() });
  ca = (await ensureTlsMaterial(config)).cert;
});

afterAll(async () => {
  await smtp?.close();
  await delivery?.close();
  await store?.close();
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SMTP submission: sending', () => {
  for (const implicit of [false, true]) {
    it(`${implicit ? 'implicit TLS' : 'STARTTLS'} + AUTH: HTML to one recipient is queued, relayed with the pixel, Send and Delivery recorded`, async () => {
      const marker = `tracked-${implicit ? 'tls' : 'starttls'}`;
      const t = transport({ implicit });
      const info = await t.sendMail({
        from: 'News <news@example.com>', to: 'reader@example.org', subject: marker,
        headers: { 'X-Ses-Configuration-Set': 'tracked' },
        html: `<html><body><p>${marker}</p></body></html>`, text: marker,
      });
      t.close();
      const id = queuedId(info.response);
      const stored = await store.getMessage(id);
      expect(stored?.tracked).toBe(true);
      expect(stored?.configSetName).toBe('tracked');
      expect(stored?.recipients).toEqual(['reader@example.org']);

      const relayed = await relayedFor('reader@example.org', marker);
      const parsed = await PostalMime.parse(relayed.raw);
      expect(parsed.html).toContain(`${PIXEL_BASE}${id}.gif`);
      expect(parsed.text).not.toContain(PIXEL_BASE);
      expect(relayed.raw.toString('latin1')).not.toMatch(/^X-Ses-Configuration-Set:/im);

      const kinds = await waitFor(async () => {
        const k = (await store.listMessageEvents(id)).map((e) => e.kind);
        return k.includes('Delivery') ? k : undefined;
      }, 'Delivery event');
      expect(kinds).toEqual(expect.arrayContaining(['Send', 'Delivery']));
    });
  }

  it('two envelope recipients: relayed without a pixel', async () => {
    const t = transport();
    const info = await t.sendMail({
      from: 'news@example.com', to: ['a@example.org', 'b@example.org'], subject: 'two',
      headers: { 'X-Ses-Configuration-Set': 'tracked' }, html: '<p>two-recipients</p>',
    });
    t.close();
    const id = queuedId(info.response);
    expect((await store.getMessage(id))?.tracked).toBe(false);
    // The delivery worker relays per recipient: both copies arrive, neither has a pixel.
    for (const to of ['a@example.org', 'b@example.org']) {
      const relayed = await relayedFor(to, 'two-recipients');
      expect(relayed.raw.toString('latin1')).not.toContain(PIXEL_BASE);
    }
    expect((await store.getMessage(id))?.recipients.sort()).toEqual(['a@example.org', 'b@example.org']);
  });

  it('one visible recipient but a Bcc: the envelope counts, no pixel', async () => {
    const t = transport();
    const info = await t.sendMail({
      from: 'news@example.com', to: 'c@example.org', bcc: 'hidden@example.org', subject: 'bcc',
      headers: { 'X-Ses-Configuration-Set': 'tracked' }, html: '<p>bcc-recipient</p>',
    });
    t.close();
    expect((await store.getMessage(queuedId(info.response)))?.tracked).toBe(false);
  });

  it('text-only message: relayed unchanged, no pixel', async () => {
    const t = transport({ implicit: true });
    const info = await t.sendMail({
      from: 'news@example.com', to: 'plain@example.org', subject: 'plain',
      headers: { 'X-Ses-Configuration-Set': 'tracked' }, text: 'text-only-body',
    });
    t.close();
    const id = queuedId(info.response);
    expect((await store.getMessage(id))?.tracked).toBe(false);
    const relayed = await relayedFor('plain@example.org', 'text-only-body');
    expect(relayed.raw.toString('latin1')).not.toContain(PIXEL_BASE);
  });
});

describe('SMTP submission: refusals (nothing queued)', () => {
  it('no AUTH: MAIL FROM / RCPT TO to a foreign domain refused with 530', async () => {
    const before = await messageCount();
    const t = transport({ noAuth: true });
    const err = await sendError(t.sendMail({ from: 'news@example.com', to: 'victim@foreign.example', subject: 'relay?', text: 'x' }));
    t.close();
    expect(err.responseCode).toBe(530);
    expect(err.response).toMatch(/^530 5\.7\.0 /);
    expect(await messageCount()).toBe(before);
  });

  it('wrong password, unknown key and revoked key: 535 5.7.8', async () => {
    for (const [user, pass] of [[KEY_ID, sesSmtpPassword('wrong', 'ru-central1')], [KEY_ID, SECRET],
      ['AKIANOSUCHKEY', password], [REVOKED_ID, password]] as const) {
      const t = transport({ user, pass });
      const err = await sendError(t.sendMail({ from: 'news@example.com', to: 'x@example.org', text: 'x' }));
      t.close();
      expect(err.responseCode).toBe(535);
      expect(err.response).toBe('535 5.7.8 Authentication failed');
    }
  });

  it('the password derived for another configured region works; an unconfigured one does not', async () => {
    const ok = transport({ pass: sesSmtpPassword(SECRET, 'us-east-1') });
    await expect(ok.verify()).resolves.toBe(true);
    ok.close();
    const bad = transport({ pass: sesSmtpPassword(SECRET, 'eu-west-1') });
    expect((await sendError(bad.verify())).responseCode).toBe(535);
    bad.close();
  });

  it('AUTH LOGIN works as well as AUTH PLAIN', async () => {
    for (const authMethod of ['LOGIN', 'PLAIN']) {
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.ports.smtp!, secure: false, requireTLS: true,
        tls: { ca: [ca], servername: 'localhost' }, auth: { user: KEY_ID, pass: password }, authMethod });
      await expect(t.verify()).resolves.toBe(true);
      t.close();
      const bad = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.ports.smtp!, secure: false, requireTLS: true,
        tls: { ca: [ca], servername: 'localhost' }, auth: { user: KEY_ID, pass: 'wrong' }, authMethod });
      expect((await sendError(bad.verify())).responseCode).toBe(535);
      bad.close();
    }
  });

  it('AUTH before STARTTLS: 530 5.7.0 Must issue a STARTTLS command first', async () => {
    // nodemailer told to skip TLS: AUTH is not advertised on cleartext, so it cannot log in.
    const t = transport({ ignoreTLS: true });
    const err = await sendError(t.sendMail({ from: 'news@example.com', to: 'x@example.org', text: 'x' }));
    t.close();
    expect(err.message).toMatch(/auth|530/i);
    // A client that sends AUTH anyway gets Postbox's reply.
    const s = net.connect(smtp.ports.smtp!, '127.0.0.1');
    const next = replyReader(s);
    await next();
    s.write('EHLO plain.test\r\n');
    await next();
    for (const cmd of ['AUTH LOGIN', `AUTH PLAIN ${Buffer.from(`\0${KEY_ID}\0${password}`).toString('base64')}`]) {
      s.write(`${cmd}\r\n`);
      expect(await next()).toBe('530 5.7.0 Must issue a STARTTLS command first');
    }
    s.destroy();
  });

  it('sender that is not a verified identity: 550 5.7.1', async () => {
    const t = transport();
    const err = await sendError(t.sendMail({ from: 'someone@not-ours.example', to: 'x@example.org', text: 'x' }));
    t.close();
    expect(err.responseCode).toBe(550);
    expect(err.response).toMatch(/^550 5\.7\.1 Sender not allowed/);
  });

  it('oversize message: 552 5.3.4, nothing queued', async () => {
    const before = await messageCount();
    const t = transport();
    const err = await sendError(t.sendMail({ from: 'news@example.com', to: 'x@example.org', text: 'y'.repeat(MAX_BYTES + 10_000) }));
    t.close();
    expect(err.responseCode).toBe(552);
    expect(err.response).toMatch(/^552 5\.3\.4 /);
    expect(await messageCount()).toBe(before);
  });

  it('EHLO advertises SIZE (the configured limit), STARTTLS before TLS, AUTH only after it', async () => {
    const ehlo = async (s: net.Socket): Promise<string> => {
      let text = '';
      await new Promise<void>((resolve) => {
        const onData = (d: Buffer) => {
          text += d.toString('latin1');
          if (/(^|\r\n)250 [^\r\n]*\r\n$/.test(text)) { s.off('data', onData); resolve(); }
        };
        s.on('data', onData);
        s.write('EHLO caps.test\r\n');
      });
      return text;
    };
    const plain = net.connect(smtp.ports.smtp!, '127.0.0.1');
    await replyReader(plain)();
    plain.removeAllListeners('data');
    const before = await ehlo(plain);
    expect(before).toContain(`SIZE ${MAX_BYTES}`);
    expect(before).toContain('STARTTLS');
    expect(before).not.toMatch(/AUTH/);
    plain.destroy();

    const secure = await connectTls();
    await replyReader(secure)();
    secure.removeAllListeners('data');
    const after = await ehlo(secure);
    expect(after).toMatch(/AUTH PLAIN LOGIN/);
    expect(after).toContain(`SIZE ${MAX_BYTES}`);
    expect(after).toContain('ENHANCEDSTATUSCODES');
    expect(after).not.toContain('STARTTLS');
    secure.destroy();
  });

  it('oversize declared with SIZE= in MAIL FROM: refused before DATA', async () => {
    const r = await rawSession(true, [`MAIL FROM:<news@example.com> SIZE=${MAX_BYTES * 2}`]);
    expect(r.at(-1)).toMatch(/^552 5\.3\.4 /);
  });

  it('unknown configuration set: rejected with a clear reply, nothing queued', async () => {
    const before = await messageCount();
    const t = transport();
    const err = await sendError(t.sendMail({
      from: 'news@example.com', to: 'x@example.org', headers: { 'X-Ses-Configuration-Set': 'no-such-set' }, html: '<p>x</p>',
    }));
    t.close();
    expect(err.response).toMatch(/^554 5\.3\.0 Configuration set no-such-set does not exist/);
    expect(await messageCount()).toBe(before);
  });

  it('too many recipients: 452 4.5.3 on the recipient past the limit', async () => {
    const r = await rawSession(true, ['MAIL FROM:<news@example.com>', 'RCPT TO:<r1@example.org>', 'RCPT TO:<r2@example.org>',
      'RCPT TO:<r3@example.org>', 'RCPT TO:<r4@example.org>']);
    expect(r.slice(-4, -1).every((l) => l.startsWith('250'))).toBe(true);
    expect(r.at(-1)).toMatch(/^452 4\.5\.3 /);
  });
});

// ---- raw-socket clients ----

/** Reads one (possibly multi-line) reply; resolves '' when the server closed the connection. */
function replyReader(sock: net.Socket) {
  let buf = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = () => { while (waiters.length) waiters.shift()!(); };
  sock.on('data', (d: Buffer) => { buf += d.toString('latin1'); wake(); });
  sock.on('close', () => { closed = true; wake(); });
  sock.on('error', () => { closed = true; wake(); });
  return async function next(): Promise<string> {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3} [^\r\n]*)\r?\n/.exec(buf);
      if (m) { buf = buf.slice(m[0].length); return m[1]!; }
      if (closed) return '';
      await new Promise<void>((r) => waiters.push(r));
    }
  };
}

function connectTls(): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: smtp.ports.smtps!, ca: [ca], servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Implicit-TLS session: greeting, EHLO, optional AUTH PLAIN, then `commands`; returns the last replies. */
async function rawSession(auth: boolean, commands: string[]): Promise<string[]> {
  const s = await connectTls();
  const next = replyReader(s);
  const replies = [await next()];
  s.write('EHLO raw.test\r\n');
  replies.push(await next());
  if (auth) {
    s.write(`AUTH PLAIN ${Buffer.from(`\0${KEY_ID}\0${password}`).toString('base64')}\r\n`);
    replies.push(await next());
    expect(replies.at(-1)).toMatch(/^235 /);
  }
  for (const c of commands) {
    s.write(`${c}\r\n`);
    replies.push(await next());
  }
  s.destroy();
  return replies;
}

describe('SMTP submission: misbehaving clients', () => {
  it('garbage, a 1 MB command line and a drop mid-DATA: server keeps serving, nothing half-queued', async () => {
    const before = await messageCount();

    // Garbage on the plain listener: refused command by command, then cut off.
    const g = net.connect(smtp.ports.smtp!, '127.0.0.1');
    const gNext = replyReader(g);
    expect(await gNext()).toMatch(/^220 /);
    g.write(Buffer.from('\x00\xff\xfe garbage \x01\x02\r\nHELO\r\nFOO BAR\r\n'));
    const gReplies: string[] = [];
    for (let i = 0; i < 3; i++) gReplies.push(await gNext());
    expect(gReplies.every((r) => /^5\d\d /.test(r))).toBe(true);
    for (let i = 0; i < 20; i++) g.write('NOPE\r\n');
    let last = '';
    for (let r = await gNext(); r; r = await gNext()) last = r;
    expect(last).toMatch(/^421 /);
    g.destroy();

    // A 1 MB command line: cut off with 421, not buffered.
    const big = net.connect(smtp.ports.smtp!, '127.0.0.1');
    const bigNext = replyReader(big);
    expect(await bigNext()).toMatch(/^220 /);
    big.write(`EHLO ${'a'.repeat(1024 * 1024)}\r\n`);
    expect(await bigNext()).toMatch(/^421 /);
    big.destroy();

    // Authenticated, DATA started, half a message, then the connection drops.
    const d = await connectTls();
    const dNext = replyReader(d);
    expect(await dNext()).toMatch(/^220 /);
    d.write('EHLO drop.test\r\n');
    await dNext();
    d.write(`AUTH PLAIN ${Buffer.from(`\0${KEY_ID}\0${password}`).toString('base64')}\r\n`);
    expect(await dNext()).toMatch(/^235 /);
    d.write('MAIL FROM:<news@example.com>\r\n');
    expect(await dNext()).toMatch(/^250 /);
    d.write('RCPT TO:<dropped@example.org>\r\n');
    expect(await dNext()).toMatch(/^250 /);
    d.write('DATA\r\n');
    expect(await dNext()).toMatch(/^354 /);
    d.write('From: news@example.com\r\nTo: dropped@example.org\r\nSubject: half\r\n\r\nhalf a message\r\n');
    await new Promise((r) => setTimeout(r, 100));
    d.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect(await messageCount()).toBe(before);

    // Still serving, on both listeners.
    for (const implicit of [false, true]) {
      const t = transport({ implicit });
      const info = await t.sendMail({ from: 'news@example.com', to: 'after@example.org', subject: 'after', text: 'still-serving' });
      t.close();
      expect(info.response).toMatch(/^250 2\.6\.0 OK: queued as /);
    }
    expect(await messageCount()).toBe(before + 2);
  });

  it('unauthenticated clients are cut off after a few commands', async () => {
    const s = net.connect(smtp.ports.smtp!, '127.0.0.1');
    const next = replyReader(s);
    expect(await next()).toMatch(/^220 /);
    for (let i = 0; i < 15; i++) s.write('NOOP\r\n');
    let last = '';
    for (let r = await next(); r; r = await next()) last = r;
    expect(last).toMatch(/^421 .*unauthenticated/);
    s.destroy();
  });

  it('after three failed AUTH attempts the connection is closed', async () => {
    const s = await connectTls();
    const next = replyReader(s);
    await next();
    s.write('EHLO x\r\n');
    await next();
    const bad = Buffer.from(`\0${KEY_ID}\0nope`).toString('base64');
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) { s.write(`AUTH PLAIN ${bad}\r\n`); replies.push(await next()); }
    expect(replies.slice(0, 2)).toEqual(['535 5.7.8 Authentication failed', '535 5.7.8 Authentication failed']);
    expect(replies[2]).toMatch(/^421 4\.7\.0 /);
    expect(await next()).toBe('');
    s.destroy();
  });

  it('TLS 1.3 and 1.2 negotiate; TLS 1.1 is refused', async () => {
    const protocol = (opts: tls.ConnectionOptions) => new Promise<string | Error>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: smtp.ports.smtps!, ca: [ca], servername: 'localhost', ...opts },
        () => { const p = s.getProtocol() ?? ''; s.destroy(); resolve(p); });
      s.once('error', (e) => resolve(e));
    });
    expect(await protocol({})).toBe('TLSv1.3');
    expect(await protocol({ maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
    // The client offers only TLS 1.1 (SECLEVEL=0 lets it). The server must answer with the
    // protocol_version alert of its minVersion; without it, OpenSSL's security level would
    // still refuse, but with a different alert (internal_error), so this pins minVersion.
    const old = await protocol({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    expect(old).toBeInstanceOf(Error);
    expect((old as NodeJS.ErrnoException).code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });
});

describe('SMTP submission: per-connection and global limits', () => {
  let small: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => {
    small = await startSmtp({
      store, submitter, config: { ...config, smtpListen: { host: '127.0.0.1', port: 0 }, smtpsListen: { host: '127.0.0.1', port: 0 } },
      limits: { maxClients: 2, idleTimeoutMs: 700, maxConnectionMs: 1500, maxCommandsPerConnection: 12, maxMessagesPerConnection: 2, closeGraceMs: 500 },
    });
  });
  afterAll(async () => { await small?.close(); });

  async function authed() {
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port: small.ports.smtps!, ca: [ca], servername: 'localhost' }, () => resolve(c));
      c.once('error', reject);
    });
    const next = replyReader(s);
    expect(await next()).toMatch(/^220 /);
    s.write('EHLO limits.test\r\n');
    await next();
    s.write(`AUTH PLAIN ${Buffer.from(`\0${KEY_ID}\0${password}`).toString('base64')}\r\n`);
    expect(await next()).toMatch(/^235 /);
    return { s, next };
  }
  async function untilClosed(next: () => Promise<string>): Promise<string> {
    let last = '';
    for (let r = await next(); r; r = await next()) last = r;
    return last;
  }

  it('idle connection: 421 after the idle timeout', async () => {
    const s = net.connect(small.ports.smtp!, '127.0.0.1');
    const next = replyReader(s);
    const t0 = Date.now();
    expect(await next()).toMatch(/^220 /);
    expect(await untilClosed(next)).toMatch(/^421 /);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    s.destroy();
  });

  it('a connection that keeps talking is still closed at its maximum lifetime', async () => {
    const { s, next } = await authed();
    const t0 = Date.now();
    const timer = setInterval(() => s.write('NOOP\r\n'), 300);
    let last = '';
    for (let r = await next(); r; r = await next()) last = r;
    clearInterval(timer);
    expect(last).toMatch(/^421 4\.4\.2 Connection open too long/);
    expect(Date.now() - t0).toBeLessThan(2500);
    s.destroy();
  });

  it('too many commands on one connection: 421', async () => {
    const { s, next } = await authed();
    for (let i = 0; i < 20; i++) s.write('NOOP\r\n');
    expect(await untilClosed(next)).toMatch(/^421 4\.7\.0 Too many commands/);
    s.destroy();
  });

  it('too many messages on one connection: 421 at the next MAIL FROM', async () => {
    const { s, next } = await authed();
    const before = await messageCount();
    for (let i = 0; i < 2; i++) {
      s.write('MAIL FROM:<news@example.com>\r\nRCPT TO:<limit@example.org>\r\nDATA\r\n');
      expect(await next()).toMatch(/^250 /);
      expect(await next()).toMatch(/^250 /);
      expect(await next()).toMatch(/^354 /);
      s.write(`From: news@example.com\r\nTo: limit@example.org\r\nSubject: n${i}\r\n\r\nbody\r\n.\r\n`);
      expect(await next()).toMatch(/^250 2\.6\.0 OK: queued as /);
    }
    s.write('MAIL FROM:<news@example.com>\r\n');
    expect(await next()).toMatch(/^421 4\.7\.0 Too many messages/);
    expect(await messageCount()).toBe(before + 2);
    s.destroy();
  });

  it('global connection limit: the connection past maxClients gets 421, a slot frees when one closes', async () => {
    const open = [net.connect(small.ports.smtp!, '127.0.0.1'), net.connect(small.ports.smtp!, '127.0.0.1')];
    const readers = open.map(replyReader);
    for (const r of readers) expect(await r()).toMatch(/^220 /);
    const third = net.connect(small.ports.smtp!, '127.0.0.1');
    expect(await replyReader(third)()).toMatch(/^421 .*Too many connected clients/);
    third.destroy();
    open[0]!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const fourth = net.connect(small.ports.smtp!, '127.0.0.1');
    expect(await replyReader(fourth)()).toMatch(/^220 /);
    fourth.destroy();
    open[1]!.destroy();
  });
});

describe('SMTP submission: internal trouble', () => {
  it('store unavailable: 451 4.3.0 (temporary, the client retries), no internal detail in the reply', async () => {
    // A second store on the same file, closed under a running listener: every lookup fails.
    const broken = openSqliteStore({ file: path.join(dir, 'mailbeacon.db') });
    await broken.init();
    const brokenSmtp = await startSmtp({
      store: broken, submitter: createSubmitter({ store: broken, config, pixelUrlFor: (id) => `${PIXEL_BASE}${id}.gif` }),
      config: { ...config, smtpListen: null, smtpsListen: { host: '127.0.0.1', port: 0 } },
    });
    try {
      // Authenticate while the store works, then take it away before MAIL FROM.
      const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const c = tls.connect({ host: '127.0.0.1', port: brokenSmtp.ports.smtps!, ca: [ca], servername: 'localhost' }, () => resolve(c));
        c.once('error', reject);
      });
      const next = replyReader(s);
      await next();
      s.write('EHLO broken.test\r\n');
      await next();
      s.write(`AUTH PLAIN ${Buffer.from(`\0${KEY_ID}\0${password}`).toString('base64')}\r\n`);
      expect(await next()).toMatch(/^235 /);
      await broken.close();
      s.write('MAIL FROM:<news@example.com>\r\n');
      expect(await next()).toBe('451 4.3.0 Internal error; try again later.');
      s.destroy();

      // A new client cannot even authenticate: also 451, not a misleading 535.
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: brokenSmtp.ports.smtps!, secure: true,
        tls: { ca: [ca], servername: 'localhost' }, auth: { user: KEY_ID, pass: password } });
      const err = await sendError(t.sendMail({ from: 'news@example.com', to: 'x@example.org', text: 'x' }));
      t.close();
      expect(err.response).toBe('451 4.3.0 Internal error; try again later.');
    } finally {
      await brokenSmtp.close();
    }
  });
});
