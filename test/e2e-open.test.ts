// The seed behaviour end to end with real parts only: the AWS SDK sends through our API,
// the message is relayed to a real SMTP server, headless Chromium loads the relayed HTML
// as a mail client would, and a real webhook receiver verifies each Open notification with
// the standardwebhooks library.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { existsSync } from 'node:fs';
import PostalMime from 'postal-mime';
import { Webhook } from 'standardwebhooks';
import { chromium, type Browser } from 'playwright-core';
import {
  CreateConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand, CreateEmailIdentityCommand, SendEmailCommand,
} from '@aws-sdk/client-sesv2';
import { startTestGateway, waitFor, signedFetch, type TestGateway } from './helpers/gateway.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`CI=true but no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
if (!haveChromium) console.warn(`e2e-open: skipped, no Chromium at ${CHROMIUM} (apt-get install chromium)`);

interface Hook { id: string; body: Record<string, any> }

describe.skipIf(!haveChromium)('open tracking end to end (SDK -> SMTP sink -> Chromium -> webhook)', () => {
  let sink: SmtpSink;
  let receiver: http.Server;
  const hooks: Hook[] = [];
  const secrets = new Map<string, string>(); // webhook path -> its destination's signing secret
  let t: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    sink = await startSmtpSink();
    const sinkPort = sink.port;

    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const payload = Buffer.concat(chunks).toString('utf8');
        try {
          const body = new Webhook(secrets.get(req.url ?? '') ?? 'whsec_AAAA').verify(payload, req.headers as Record<string, string>) as Record<string, any>;
          hooks.push({ id: String(req.headers['webhook-id']), body });
          res.writeHead(204).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hookPort = (receiver.address() as { port: number }).port;

    t = await startTestGateway({ MAILBEACON_RELAY_URL: `smtp://127.0.0.1:${sinkPort}` });
    const ses = t.ses();
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    for (const [set, types] of [['tracked', ['SEND', 'DELIVERY', 'OPEN']], ['untracked', ['SEND', 'DELIVERY']]] as const) {
      await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: set }));
      // WebhookDestination is our extension: the AWS SDK drops members it doesn't know, so
      // this call is a plain SigV4-signed request, as `curl --aws-sigv4` would make it.
      const made = await signedFetch(t, 'POST', `/v2/email/configuration-sets/${set}/event-destinations`, {
        EventDestinationName: 'hook',
        EventDestination: { Enabled: true, MatchingEventTypes: types, WebhookDestination: { Url: `http://127.0.0.1:${hookPort}/${set}` } },
      });
      expect(made.status).toBe(200);
    }
    for (const set of ['tracked', 'untracked']) {
      const got = await signedFetch(t, 'GET', `/v2/email/configuration-sets/${set}/event-destinations`);
      const secret = got.json.EventDestinations[0].WebhookDestination.SigningSecret;
      expect(secret).toMatch(/^whsec_/);
      secrets.set(`/${set}`, secret);
    }
    // The SDK still reads the standard parts of the same destination.
    const viaSdk = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'tracked' }));
    expect(viaSdk.EventDestinations?.[0]?.MatchingEventTypes).toEqual(['SEND', 'DELIVERY', 'OPEN']);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await sink?.close();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  });

  async function send(input: { to: string[]; html?: string; text?: string; set: string; subject: string }): Promise<{ id: string; raw: Buffer }> {
    const out = await t.ses().send(new SendEmailCommand({
      FromEmailAddress: 'News <news@example.com>',
      Destination: { ToAddresses: input.to },
      ConfigurationSetName: input.set,
      EmailTags: [{ Name: 'campaign', Value: 'e2e' }],
      Content: { Simple: {
        Subject: { Data: input.subject },
        Body: { ...(input.html ? { Html: { Data: input.html } } : {}), ...(input.text ? { Text: { Data: input.text } } : {}) },
      } },
    }));
    const id = out.MessageId!;
    // The relay sends one copy per recipient; wait for all of them.
    const copies = await waitFor(() => {
      const got = sink.received.filter((m) => m.raw.toString('latin1').includes(`Subject: ${input.subject}`));
      return got.flatMap((m) => m.to).sort().join() === [...input.to].sort().join() ? got : undefined;
    }, `relay of ${input.subject}`);
    const r = copies[0]!;
    return { id, raw: r.raw };
  }

  it('loads the pixel in Chromium three times: three signed Open notifications with distinct eventIds', async () => {
    const { id, raw } = await send({ to: ['reader@example.net'], html: '<html><body><h1>Hello</h1><p>News for you</p></body></html>', text: 'Hello', set: 'tracked', subject: 'Tracked hello' });
    const parsed = await PostalMime.parse(raw);
    const html = parsed.html!;
    const pixel = /<img[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(pixel, 'pixel present in relayed HTML').toBeTruthy();
    expect(pixel!.length).toBeLessThanOrEqual(100);
    expect(pixel!).not.toContain('reader');

    // Each open is a fresh navigation to the message (a new document), as when a reader
    // opens the mail again; `no-store` must make Chromium fetch the pixel every time.
    const mailbox = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
    await new Promise<void>((r) => mailbox.listen(0, '127.0.0.1', r));
    const mailUrl = `http://127.0.0.1:${(mailbox.address() as { port: number }).port}/message.html`;
    const page = await browser.newPage();
    const pixelStatuses: number[] = [];
    page.on('response', (r) => { if (r.url() === pixel) pixelStatuses.push(r.status()); });
    const ua = (await page.evaluate('navigator.userAgent')) as string;
    for (let i = 0; i < 3; i++) await page.goto(mailUrl, { waitUntil: 'load' });
    await page.close();
    mailbox.close();
    expect(pixelStatuses).toEqual([200, 200, 200]);

    const opens = await waitFor(() => {
      const o = hooks.filter((h) => h.body.eventType === 'Open' && h.body.mail?.messageId === id);
      return o.length >= 3 ? o : undefined;
    }, 'three Open notifications');
    const ids = new Set(opens.map((o) => o.body.eventId));
    expect(ids.size).toBe(3);
    for (const o of opens) {
      expect(o.id).toBe(o.body.eventId);
      expect(o.body.eventId).toMatch(new RegExp(`^${id}:\\d+$`));
      expect(o.body.mail.commonHeaders.subject).toBe('Tracked hello');
      expect(o.body.mail.commonHeaders.to).toEqual(['reader@example.net']);
      expect(o.body.mail.commonHeaders.from[0]).toContain('news@example.com');
      expect(o.body.mail.identityId).toBe('example.com');
      expect(o.body.mail.tags['ses:configuration-set']).toEqual(['tracked']);
      expect(o.body.mail.tags.campaign).toEqual(['e2e']);
      expect(Date.parse(o.body.mail.timestamp)).not.toBeNaN();
      expect(o.body.open.userAgent).toBe(ua);
      // mailbeacon's reading of the agent: Chromium, and a headless one counts as automation.
      expect(o.body.open.client.name).toBe('Chrome');
      expect(o.body.open.machineOpen).toBe(/HeadlessChrome/.test(ua));
      expect(o.body.open.ipAddress).toBe('127.0.0.1');
      expect(Date.parse(o.body.open.timestamp)).not.toBeNaN();
    }
    // Send and Delivery reached the same subscription too.
    await waitFor(() => hooks.some((h) => h.body.eventType === 'Delivery' && h.body.mail.messageId === id), 'Delivery notification');
    expect(hooks.some((h) => h.body.eventType === 'Send' && h.body.mail.messageId === id)).toBe(true);
  });

  it('two recipients, text-only, or no OPEN subscription: no pixel and no Open', async () => {
    const cases = [
      await send({ to: ['a@example.net', 'b@example.net'], html: '<p>two</p>', set: 'tracked', subject: 'Two recipients' }),
      await send({ to: ['c@example.net'], text: 'just text', set: 'tracked', subject: 'Text only' }),
      await send({ to: ['d@example.net'], html: '<p>no open sub</p>', set: 'untracked', subject: 'No OPEN subscription' }),
    ];
    const page = await browser.newPage();
    for (const c of cases) {
      const parsed = await PostalMime.parse(c.raw);
      expect(parsed.html ?? '').not.toMatch(/<img/);
      if (parsed.html) await page.setContent(parsed.html, { waitUntil: 'load' });
      const msg = await t.gw.store.getMessage(c.id);
      expect(msg?.tracked).toBe(false);
    }
    await page.close();
    // Give the dispatcher time to have sent anything it would; there must be no Open.
    await waitFor(() => cases.every((c) => hooks.some((h) => h.body.eventType === 'Delivery' && h.body.mail.messageId === c.id)), 'Delivery of all three');
    for (const c of cases) expect(hooks.filter((h) => h.body.mail.messageId === c.id && h.body.eventType === 'Open')).toHaveLength(0);
  });
});
