// Whole-pipeline tests of accept + delivery with real parts: a real SQLite file store, the
// real Submitter, the real delivery worker relaying through nodemailer to a real upstream
// SMTP server (smtp-server) whose replies are programmable per recipient.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubmitter, type Submitter } from '../src/core/index.js';
import { startDeliveryWorker, type DeliveryWorker, type DeliveryWorkerDeps } from '../src/delivery/index.js';
import { GatewayError } from '../src/errors.js';
import type { Store } from '../src/store/port.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';

interface Received { from: string; to: string[]; raw: Buffer; secure: boolean }

/** Per-recipient plan: reply `code` to RCPT TO for the first `times` attempts (Infinity = always). */
const plans = new Map<string, { code: number; text: string; times: number }>();
const attempts = new Map<string, number>();
const received: Received[] = [];
/** Per-recipient pause before the upstream answers DATA, to catch sends in flight. */
const slow = new Map<string, number>();

function startUpstream(opts: { starttls: boolean }): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: opts.starttls ? [] : ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      const rcpt = address.address.toLowerCase();
      const n = (attempts.get(rcpt) ?? 0) + 1;
      attempts.set(rcpt, n);
      const plan = plans.get(rcpt);
      if (plan && n <= plan.times) {
        const err = new Error(plan.text) as Error & { responseCode: number };
        err.responseCode = plan.code;
        return cb(err);
      }
      cb();
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const pause = Math.max(0, ...session.envelope.rcptTo.map((r) => slow.get(r.address.toLowerCase()) ?? 0));
        if (pause) await new Promise((r) => setTimeout(r, pause));
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
        });
        cb(null);
      });
    },
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as { port: number }).port }));
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-delivery-'));
let upstream: { server: SMTPServer; port: number };
let plainUpstream: { server: SMTPServer; port: number };
const cleanups: (() => Promise<void>)[] = [];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let fileNo = 0;
async function openStore(file?: string): Promise<{ store: Store; file: string }> {
  const f = file ?? path.join(tmp, `store-${++fileNo}.db`);
  const store = openSqliteStore({ file: f });
  await store.init();
  return { store, file: f };
}

async function seed(store: Store): Promise<void> {
  const at = Date.now();
  await store.createIdentity({ name: 'example.com', createdAt: at, configurationSetName: null });
  await store.createIdentity({ name: 'bound@example.org', createdAt: at, configurationSetName: 'tracked' });
  await store.createConfigSet({ name: 'tracked', createdAt: at, options: {} });
  await store.createConfigSet({ name: 'plain', createdAt: at, options: {} });
  await store.createConfigSet({ name: 'strict-tls', createdAt: at, options: { DeliveryOptions: { TlsPolicy: 'REQUIRE' } } });
  await store.createConfigSet({ name: 'paused', createdAt: at, options: { SendingOptions: { SendingEnabled: false } } });
  const dest = { enabled: true, kind: 'webhook' as const, settings: { Url: 'http://127.0.0.1:9/hook' }, disabledReason: null, createdAt: at };
  await store.createDestination({ ...dest, configSetName: 'tracked', name: 'opens', matchingEventTypes: ['SEND', 'OPEN', 'DELIVERY'] });
  await store.createDestination({ ...dest, configSetName: 'plain', name: 'sends', matchingEventTypes: ['SEND', 'DELIVERY'] });
}

interface Rig { store: Store; file: string; submitter: Submitter; worker: DeliveryWorker }

async function rig(opts: Partial<DeliveryWorkerDeps> & { relayUrl?: string | null; maxAgeMs?: number; file?: string; seeded?: boolean } = {}): Promise<Rig> {
  const { store, file } = await openStore(opts.file);
  if (!opts.seeded) await seed(store);
  const submitter = createSubmitter({
    store, config: { maxMessageBytes: 64 * 1024, maxRecipients: 5 },
    pixelUrlFor: (id) => 'http://t.test/o/' + id,
  });
  const worker = startDeliveryWorker({
    store,
    config: { relayUrl: opts.relayUrl === undefined ? `smtp://127.0.0.1:${upstream.port}` : opts.relayUrl, deliveryMaxAgeMs: opts.maxAgeMs ?? 3600_000 },
    pollMs: 50, backoff: () => 100, simulatorDelayMs: 50, hostname: 'mta.test',
    relayOptions: { connectionTimeoutMs: 3000, socketTimeoutMs: 5000 },
    ...opts,
  });
  const r = { store, file, submitter, worker };
  cleanups.push(async () => { await worker.close(); await store.close().catch(() => {}); });
  return r;
}

function htmlMessage(to: string, extra = ''): Buffer {
  return Buffer.from([
    'From: Sender <sender@example.com>', `To: ${to}`, 'Subject: =?UTF-8?Q?Hi_=E2=9C=93?=', extra,
    'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'Hello', '',
    '--b1', 'Content-Type: text/html; charset=utf-8', '', '<html><body><p>Hello</p></body></html>', '',
    '--b1--', '',
  ].filter((l, i) => i !== 3 || l !== '').join('\r\n'));
}

function textMessage(to: string): Buffer {
  return Buffer.from(['From: sender@example.com', `To: ${to}`, 'Subject: plain', 'Content-Type: text/plain', '', 'Just text', ''].join('\r\n'));
}

async function kinds(store: Store, id: string): Promise<string[]> {
  return (await store.listMessageEvents(id)).map((e) => e.kind);
}

function receivedFor(rcpt: string): Received[] {
  return received.filter((r) => r.to.map((t) => t.toLowerCase()).includes(rcpt.toLowerCase()));
}

beforeAll(async () => {
  upstream = await startUpstream({ starttls: true });
  plainUpstream = await startUpstream({ starttls: false });
});

afterAll(async () => {
  for (const c of cleanups) await c();
  await new Promise<void>((r) => upstream.server.close(() => r()));
  await new Promise<void>((r) => plainUpstream.server.close(() => r()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tracking decision and relay', () => {
  it('injects the pixel for one recipient + HTML + OPEN subscription and relays the stored bytes', async () => {
    const { store, submitter, worker } = await rig();
    const res = await submitter.submit({ raw: htmlMessage('one@dest.test'), mailFrom: 'sender@example.com', recipients: ['one@dest.test'], configSetName: 'tracked', via: 'api', callerIdentity: 'AKIDTEST' });
    expect(res).toMatchObject({ tracked: true, injectOutcome: 'injected' });
    expect(res.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    worker.kick();
    const [got] = await waitFor('relay', async () => receivedFor('one@dest.test').length === 1 && receivedFor('one@dest.test'));
    const stored = await store.getMessageRaw(res.messageId);
    expect(got!.raw.equals(stored!)).toBe(true);
    expect(got!.raw.toString()).toContain('http://t.test/o/' + res.messageId);
    expect(got!.raw.toString()).toMatch(new RegExp(`^Message-ID: <${res.messageId}@example.com>\r\nDate: `));
    expect(got!.from).toBe('sender@example.com');
    const events = await waitFor('Delivery', async () => {
      const ev = await store.listMessageEvents(res.messageId);
      return ev.length === 2 && ev;
    });
    expect(events.map((e) => [e.kind, e.eventId])).toEqual([['Send', `${res.messageId}:1`], ['Delivery', `${res.messageId}:2`]]);
    expect(events[1]!.detail).toMatchObject({ recipients: ['one@dest.test'], reportingMTA: 'mta.test' });
    expect(String(events[1]!.detail.smtpResponse)).toMatch(/^250/);
    const msg = await store.getMessage(res.messageId);
    expect(msg!.status).toBe('delivered');
    expect(msg!.mail).toMatchObject({
      messageId: res.messageId, identityId: 'example.com', source: 'sender@example.com', destination: ['one@dest.test'],
      commonHeaders: { from: ['Sender <sender@example.com>'], to: ['one@dest.test'], subject: 'Hi ✓', messageId: `<${res.messageId}@example.com>` },
      tags: { 'ses:configuration-set': ['tracked'], 'ses:from-domain': ['example.com'], 'ses:caller-identity': ['AKIDTEST'] },
    });
  });

  it('relays unchanged for two recipients, text-only, no OPEN subscription, or no set', async () => {
    const { store, submitter, worker } = await rig();
    const cases = [
      { to: ['two-a@dest.test', 'two-b@dest.test'], raw: htmlMessage('two-a@dest.test, two-b@dest.test'), set: 'tracked', outcome: 'multiple-recipients' },
      { to: ['text@dest.test'], raw: textMessage('text@dest.test'), set: 'tracked', outcome: undefined },
      { to: ['noopen@dest.test'], raw: htmlMessage('noopen@dest.test'), set: 'plain', outcome: 'no-open-subscription' },
      { to: ['noset@dest.test'], raw: htmlMessage('noset@dest.test'), set: undefined, outcome: 'no-configuration-set' },
    ];
    for (const c of cases) {
      const res = await submitter.submit({ raw: c.raw, mailFrom: 'sender@example.com', recipients: c.to, configSetName: c.set, via: 'smtp' });
      expect(res.tracked).toBe(false);
      if (c.outcome) expect(res.injectOutcome).toBe(c.outcome);
      else expect(res.injectOutcome).not.toBe('injected');
      worker.kick();
      for (const rcpt of c.to) {
        const [got] = await waitFor(`relay to ${rcpt}`, async () => receivedFor(rcpt).length === 1 && receivedFor(rcpt));
        expect(got!.raw.toString()).not.toContain('t.test/o/');
        expect(got!.raw.equals((await store.getMessageRaw(res.messageId))!)).toBe(true);
        // The body is the client's, byte for byte: only Message-ID and Date were added on top.
        expect(got!.raw.subarray(got!.raw.length - c.raw.length).equals(c.raw)).toBe(true);
      }
    }
  });
});

describe('retries, bounces and restarts', () => {
  it('4xx then 250 gives Send, DeliveryDelay, Delivery in order', async () => {
    const { store, submitter } = await rig();
    plans.set('flaky@dest.test', { code: 451, text: '4.3.0 Try again later', times: 2 });
    const res = await submitter.submit({ raw: htmlMessage('flaky@dest.test'), mailFrom: 'sender@example.com', recipients: ['flaky@dest.test'], configSetName: 'plain', via: 'api' });
    const events = await waitFor('Delivery after retries', async () => {
      const ev = await store.listMessageEvents(res.messageId);
      return ev.some((e) => e.kind === 'Delivery') && ev;
    });
    expect(events.map((e) => [e.kind, e.eventId])).toEqual([
      ['Send', `${res.messageId}:1`], ['DeliveryDelay', `${res.messageId}:2`], ['Delivery', `${res.messageId}:3`],
    ]);
    expect(events[1]!.detail).toMatchObject({
      delayType: 'RecipientServerError',
      delayedRecipients: [{ emailAddress: 'flaky@dest.test', status: '4.3.0' }],
    });
    expect(String((events[1]!.detail.delayedRecipients as { diagnosticCode: string }[])[0]!.diagnosticCode)).toMatch(/^smtp; 451/);
    expect(attempts.get('flaky@dest.test')).toBe(3);
    expect(receivedFor('flaky@dest.test')).toHaveLength(1);
    expect((await store.getMessage(res.messageId))!.status).toBe('delivered');
  });

  it('5xx gives a Permanent Bounce and nothing is retried', async () => {
    const { store, submitter } = await rig();
    plans.set('gone@dest.test', { code: 550, text: '5.1.1 No such user', times: Infinity });
    const res = await submitter.submit({ raw: textMessage('gone@dest.test'), mailFrom: 'sender@example.com', recipients: ['gone@dest.test'], configSetName: 'plain', via: 'api' });
    const events = await waitFor('Bounce', async () => {
      const ev = await store.listMessageEvents(res.messageId);
      return ev.length === 2 && ev;
    });
    expect(events.map((e) => e.kind)).toEqual(['Send', 'Bounce']);
    expect(events[1]!.detail).toMatchObject({
      bounceType: 'Permanent', bounceSubType: 'General', reportingMTA: 'dsn; mta.test',
      bouncedRecipients: [{ emailAddress: 'gone@dest.test', action: 'failed', status: '5.1.1' }],
    });
    expect(String((events[1]!.detail.bouncedRecipients as { diagnosticCode: string }[])[0]!.diagnosticCode)).toMatch(/^smtp; 550 5\.1\.1/);
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts.get('gone@dest.test')).toBe(1);
    expect((await store.getMessage(res.messageId))!.status).toBe('bounced');
    expect((await store.listMessageOutbound(res.messageId))[0]!.state).toBe('bounced');
  });

  it('judges each recipient on its own: one bounced, one delivered, status partial', async () => {
    const { store, submitter } = await rig();
    plans.set('mixed-bad@dest.test', { code: 550, text: '5.1.1 No such user', times: Infinity });
    const raw = htmlMessage('mixed-ok@dest.test', 'Cc: mixed-bad@dest.test\r\nBcc: Hidden <mixed-hidden@dest.test>');
    const res = await submitter.submit({ raw, mailFrom: 'sender@example.com', recipients: ['mixed-ok@dest.test', 'mixed-bad@dest.test', 'mixed-hidden@dest.test'], configSetName: 'tracked', via: 'api' });
    expect(res.injectOutcome).toBe('multiple-recipients');
    const events = await waitFor('three outcomes', async () => {
      const ev = await store.listMessageEvents(res.messageId);
      return ev.length === 4 && ev;
    });
    expect(events.map((e) => e.kind).sort()).toEqual(['Bounce', 'Delivery', 'Delivery', 'Send']);
    expect((await store.getMessage(res.messageId))!.status).toBe('partial');
    const states = Object.fromEntries((await store.listMessageOutbound(res.messageId)).map((o) => [o.recipient, o.state]));
    expect(states).toEqual({ 'mixed-ok@dest.test': 'delivered', 'mixed-bad@dest.test': 'bounced', 'mixed-hidden@dest.test': 'delivered' });
    // Bcc never travels (every recipient gets the same bytes) but is reported in commonHeaders.
    for (const r of receivedFor('mixed-ok@dest.test').concat(receivedFor('mixed-hidden@dest.test'))) expect(r.raw.toString()).not.toMatch(/^Bcc:/im);
    const mail = (await store.getMessage(res.messageId))!.mail as { commonHeaders: Record<string, unknown> };
    expect(mail.commonHeaders).toMatchObject({ cc: ['mixed-bad@dest.test'], bcc: ['Hidden <mixed-hidden@dest.test>'] });
  });

  it('an unreachable relay delays the mail (TransientCommunicationFailure), it does not bounce', async () => {
    const closed = await startUpstream({ starttls: false });
    const port = closed.port;
    await new Promise<void>((r) => closed.server.close(() => r()));
    const { store, submitter } = await rig({ relayUrl: `smtp://127.0.0.1:${port}`, backoff: () => 60_000 });
    const res = await submitter.submit({ raw: textMessage('unreach@dest.test'), mailFrom: 'sender@example.com', recipients: ['unreach@dest.test'], configSetName: 'plain', via: 'api' });
    const events = await waitFor('DeliveryDelay', async () => {
      const ev = await store.listMessageEvents(res.messageId);
      return ev.length === 2 && ev;
    });
    expect(events[1]).toMatchObject({ kind: 'DeliveryDelay', detail: { delayType: 'TransientCommunicationFailure' } });
    const [row] = await store.listMessageOutbound(res.messageId);
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    expect(row!.nextAttemptAt).toBeGreaterThan(Date.now() + 30_000);
    expect((await store.getMessage(res.messageId))!.status).toBe('delayed');
  });

  it('gives up with a Bounce when the max age runs out, after one DeliveryDelay', async () => {
    const { store, submitter } = await rig({ maxAgeMs: 400 });
    plans.set('down@dest.test', { code: 421, text: '4.4.2 Service not available', times: Infinity });
    const res = await submitter.submit({ raw: textMessage('down@dest.test'), mailFrom: 'sender@example.com', recipients: ['down@dest.test'], configSetName: 'plain', via: 'api' });
    const events = await waitFor('expiry Bounce', async () => {
      const ev = await store.listMessageEvents(res.messageId);
      return ev.some((e) => e.kind === 'Bounce') && ev;
    });
    expect(events.map((e) => e.kind)).toEqual(['Send', 'DeliveryDelay', 'Bounce']);
    expect(events[2]!.detail).toMatchObject({ bouncedRecipients: [{ emailAddress: 'down@dest.test', status: '4.4.7' }] });
    expect(attempts.get('down@dest.test')!).toBeGreaterThanOrEqual(2);
    expect(receivedFor('down@dest.test')).toHaveLength(0);
  });

  it('a restart while a recipient waits for its retry loses nothing and delivers once', async () => {
    const first = await rig({ backoff: () => 600 });
    plans.set('restart@dest.test', { code: 451, text: '4.3.0 Busy', times: 1 });
    const res = await first.submitter.submit({ raw: htmlMessage('restart@dest.test'), mailFrom: 'sender@example.com', recipients: ['restart@dest.test'], configSetName: 'tracked', via: 'api' });
    await waitFor('DeliveryDelay', async () => (await kinds(first.store, res.messageId)).includes('DeliveryDelay'));
    await first.worker.close();
    await first.store.close();
    expect(receivedFor('restart@dest.test')).toHaveLength(0);

    const second = await rig({ file: first.file, seeded: true });
    const events = await waitFor('Delivery after restart', async () => {
      const ev = await second.store.listMessageEvents(res.messageId);
      return ev.some((e) => e.kind === 'Delivery') && ev;
    });
    expect(events.map((e) => e.eventId)).toEqual([1, 2, 3].map((n) => `${res.messageId}:${n}`));
    await new Promise((r) => setTimeout(r, 300));
    const got = receivedFor('restart@dest.test');
    expect(got).toHaveLength(1);
    expect(got[0]!.raw.toString()).toContain('http://t.test/o/' + res.messageId);
  });
});

describe('shutdown and crashes', () => {
  it('close() waits for a send in flight and records its outcome', async () => {
    const { store, submitter, worker } = await rig();
    slow.set('inflight@dest.test', 700);
    const res = await submitter.submit({ raw: textMessage('inflight@dest.test'), mailFrom: 'sender@example.com', recipients: ['inflight@dest.test'], configSetName: 'plain', via: 'api' });
    worker.kick();
    await waitFor('send in flight', async () => (attempts.get('inflight@dest.test') ?? 0) > 0);
    await worker.close();
    expect(receivedFor('inflight@dest.test')).toHaveLength(1);
    expect(await kinds(store, res.messageId)).toEqual(['Send', 'Delivery']);
    expect((await store.listMessageOutbound(res.messageId))[0]!.state).toBe('delivered');
  });

  it("a crashed worker's leased rows come back when the lease ends, and are delivered once", async () => {
    const { store, file } = await openStore();
    await seed(store);
    const submitter = createSubmitter({ store, config: { maxMessageBytes: 64 * 1024, maxRecipients: 5 }, pixelUrlFor: (id) => 'http://t.test/o/' + id });
    const res = await submitter.submit({ raw: textMessage('crashed@dest.test'), mailFrom: 'sender@example.com', recipients: ['crashed@dest.test'], configSetName: 'plain', via: 'api' });
    // The "crashed" worker: it leased the row and never reported back.
    const leasedAt = Date.now();
    expect(await store.claimOutbound(leasedAt, 10, 1500)).toHaveLength(1);
    await store.close();
    const { store: reopened, worker } = await rig({ file, seeded: true });
    worker.kick();
    await new Promise((r) => setTimeout(r, 200));
    if (Date.now() - leasedAt < 1400) expect(receivedFor('crashed@dest.test')).toHaveLength(0); // still leased
    await waitFor('Delivery after the lease', async () => (await kinds(reopened, res.messageId)).includes('Delivery'));
    expect(receivedFor('crashed@dest.test')).toHaveLength(1);
  });
});

describe('TLS policy', () => {
  it('REQUIRE refuses a relay without STARTTLS and keeps the mail for a retry', async () => {
    const { store, submitter } = await rig({ relayUrl: `smtp://127.0.0.1:${plainUpstream.port}` });
    const res = await submitter.submit({ raw: textMessage('tls@dest.test'), mailFrom: 'sender@example.com', recipients: ['tls@dest.test'], configSetName: 'strict-tls', via: 'api' });
    const events = await waitFor('DeliveryDelay', async () => {
      const ev = await store.listMessageEvents(res.messageId);
      return ev.length === 2 && ev;
    });
    expect(events[1]!.kind).toBe('DeliveryDelay');
    expect(events[1]!.detail).toMatchObject({ delayType: 'TransientCommunicationFailure' });
    expect(receivedFor('tls@dest.test')).toHaveLength(0);
    expect((await store.listMessageOutbound(res.messageId))[0]!.state).toBe('pending');
  });

  it('REQUIRE relays over STARTTLS when the relay offers it', async () => {
    const { store, submitter } = await rig({ relayOptions: { tls: { rejectUnauthorized: false } } });
    const res = await submitter.submit({ raw: textMessage('tls-ok@dest.test'), mailFrom: 'sender@example.com', recipients: ['tls-ok@dest.test'], configSetName: 'strict-tls', via: 'api' });
    const [got] = await waitFor('relay over TLS', async () => receivedFor('tls-ok@dest.test').length === 1 && receivedFor('tls-ok@dest.test'));
    expect(got!.secure).toBe(true);
    await waitFor('Delivery', async () => (await kinds(store, res.messageId)).includes('Delivery'));
  });
});

describe('simulator and capture', () => {
  it('simulator addresses are answered locally, never relayed', async () => {
    const { store, submitter } = await rig();
    const sim = ['success', 'bounce', 'delay', 'suppressed'].map((s) => `${s}@simulator.mailbeacon.local`);
    const results = new Map<string, string>();
    for (const r of sim) {
      const res = await submitter.submit({ raw: textMessage(r), mailFrom: 'sender@example.com', recipients: [r], configSetName: 'plain', via: 'api' });
      results.set(r, res.messageId);
    }
    const final = async (id: string) => waitFor(`events of ${id}`, async () => {
      const ev = await store.listMessageEvents(id);
      return ev.some((e) => e.kind === 'Delivery' || e.kind === 'Bounce') && ev;
    });
    expect((await final(results.get(sim[0]!)!)).map((e) => e.kind)).toEqual(['Send', 'Delivery']);
    const bounce = await final(results.get(sim[1]!)!);
    expect(bounce.map((e) => e.kind)).toEqual(['Send', 'Bounce']);
    expect(bounce[1]!.detail).toMatchObject({ bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ status: '5.1.1' }] });
    expect((await final(results.get(sim[2]!)!)).map((e) => e.kind)).toEqual(['Send', 'DeliveryDelay', 'Delivery']);
    const supp = await final(results.get(sim[3]!)!);
    expect(supp[1]!.detail).toMatchObject({ bounceType: 'Permanent', bounceSubType: 'Suppressed' });
    expect((await store.listMessageOutbound(results.get(sim[3]!)!))[0]!.state).toBe('suppressed');
    expect(received.filter((r) => r.to.some((t) => t.endsWith('@simulator.mailbeacon.local')))).toHaveLength(0);
  });

  it('without a relay URL mail is captured: stored, Delivery event, status captured', async () => {
    const { store, submitter } = await rig({ relayUrl: null });
    const res = await submitter.submit({ raw: htmlMessage('capture@dest.test'), mailFrom: 'sender@example.com', recipients: ['capture@dest.test'], configSetName: 'tracked', via: 'api' });
    await waitFor('captured', async () => (await kinds(store, res.messageId)).includes('Delivery'));
    expect((await store.getMessage(res.messageId))!.status).toBe('captured');
    expect((await store.listMessageOutbound(res.messageId))[0]!.state).toBe('captured');
    expect((await store.getMessageRaw(res.messageId))!.toString()).toContain('http://t.test/o/' + res.messageId);
    expect(receivedFor('capture@dest.test')).toHaveLength(0);
  });
});

describe('accept rules', () => {
  let r: Rig;
  beforeAll(async () => { r = await rig({ relayUrl: null }); });

  it('the X-Ses-Configuration-Set header wins over the API field and is removed', async () => {
    const raw = htmlMessage('hdr@dest.test', 'X-SES-CONFIGURATION-SET: tracked\r\nX-SES-MESSAGE-TAGS: campaign=spring, cohort=b');
    const res = await r.submitter.submit({ raw, mailFrom: 'sender@example.com', recipients: ['hdr@dest.test'], configSetName: 'plain', tags: [{ Name: 'source', Value: 'api' }], via: 'api' });
    expect(res.tracked).toBe(true);
    const msg = await r.store.getMessage(res.messageId);
    expect(msg!.configSetName).toBe('tracked');
    expect(msg!.mail.tags).toMatchObject({ 'ses:configuration-set': ['tracked'], campaign: ['spring'], cohort: ['b'], source: ['api'] });
    const stored = (await r.store.getMessageRaw(res.messageId))!.toString();
    expect(stored).not.toMatch(/X-SES-CONFIGURATION-SET|X-SES-MESSAGE-TAGS/i);
  });

  it("uses the identity's bound set when none is named", async () => {
    const res = await r.submitter.submit({ raw: htmlMessage('bound@dest.test'), mailFrom: 'bound@example.org', recipients: ['bound@dest.test'], via: 'smtp' });
    expect((await r.store.getMessage(res.messageId))!.configSetName).toBe('tracked');
    expect(res.tracked).toBe(true);
  });

  it("a bound set that no longer exists is named in the error", async () => {
    await r.store.createIdentity({ name: 'stale.example.net', createdAt: Date.now(), configurationSetName: 'deleted-set' });
    await expect(r.submitter.submit({ raw: textMessage('x@dest.test'), mailFrom: 'a@stale.example.net', recipients: ['x@dest.test'], via: 'api' }))
      .rejects.toMatchObject({ kind: 'ConfigurationSetDoesNotExist', message: expect.stringContaining('deleted-set (the default of identity stale.example.net)') });
  });

  it('an unknown or paused set is an error and nothing is stored', async () => {
    const before = (await r.store.listMessages(100)).items.length;
    await expect(r.submitter.submit({ raw: htmlMessage('x@dest.test'), mailFrom: 'sender@example.com', recipients: ['x@dest.test'], configSetName: 'nope', via: 'api' }))
      .rejects.toMatchObject({ kind: 'ConfigurationSetDoesNotExist', message: expect.stringContaining('nope') });
    await expect(r.submitter.submit({ raw: htmlMessage('x@dest.test', 'X-Ses-Configuration-Set: ghost'), mailFrom: 'sender@example.com', recipients: ['x@dest.test'], via: 'api' }))
      .rejects.toMatchObject({ kind: 'ConfigurationSetDoesNotExist' });
    await expect(r.submitter.submit({ raw: htmlMessage('x@dest.test'), mailFrom: 'sender@example.com', recipients: ['x@dest.test'], configSetName: 'paused', via: 'api' }))
      .rejects.toMatchObject({ kind: 'SendingPaused' });
    expect((await r.store.listMessages(100)).items.length).toBe(before);
  });

  it('enforces size, recipient count, address syntax and sender identity', async () => {
    const before = (await r.store.listMessages(100)).items.length;
    const base = { mailFrom: 'sender@example.com', via: 'api' as const };
    const big = Buffer.concat([textMessage('a@dest.test'), Buffer.alloc(64 * 1024, 'a')]);
    await expect(r.submitter.submit({ ...base, raw: big, recipients: ['a@dest.test'] })).rejects.toMatchObject({ kind: 'MessageTooLarge' });
    await expect(r.submitter.submit({ ...base, raw: textMessage('a@dest.test'), recipients: [] })).rejects.toMatchObject({ kind: 'NoRecipients' });
    const six = Array.from({ length: 6 }, (_, i) => `r${i}@dest.test`);
    await expect(r.submitter.submit({ ...base, raw: textMessage('a@dest.test'), recipients: six })).rejects.toMatchObject({ kind: 'TooManyRecipients' });
    await expect(r.submitter.submit({ ...base, raw: textMessage('a@dest.test'), recipients: ['not an address'] })).rejects.toMatchObject({ kind: 'BadRequest', message: expect.stringContaining('not an address') });
    await expect(r.submitter.submit({ ...base, mailFrom: 'who@elsewhere.test', raw: textMessage('a@dest.test'), recipients: ['a@dest.test'] }))
      .rejects.toMatchObject({ kind: 'MailFromDomainNotVerified', message: expect.stringContaining('who@elsewhere.test') });
    await expect(r.submitter.submit({ ...base, raw: htmlMessage('a@dest.test', 'X-SES-MESSAGE-TAGS: ses:bad=1'), recipients: ['a@dest.test'] })).rejects.toBeInstanceOf(GatewayError);
    expect((await r.store.listMessages(100)).items.length).toBe(before);
    // A parent-domain identity covers subdomains; findIdentity says which one.
    expect(await r.submitter.findIdentity('news@mail.example.com')).toBe('example.com');
    expect(await r.submitter.findIdentity('bound@example.org')).toBe('bound@example.org');
    expect(await r.submitter.findIdentity('other@example.org')).toBeUndefined();
    const ok = await r.submitter.submit({ ...base, mailFrom: 'news@mail.example.com', raw: textMessage('a@dest.test'), recipients: ['a@dest.test', 'A@dest.test'] });
    expect((await r.store.getMessage(ok.messageId))!.recipients).toEqual(['a@dest.test']);
  });
});
