// Scale-out: two whole gateways (API, pixel server, workers) sharing one PostgreSQL database
// and one tracking-keys file, as two stateless instances behind a load balancer would. A
// message sent through one is tracked by the other's pixel server, and its Open is recorded
// once per load whichever instance served it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import pg from 'pg';
import PostalMime from 'postal-mime';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import {
  CreateConfigurationSetCommand, CreateEmailIdentityCommand, SendEmailCommand,
} from '@aws-sdk/client-sesv2';
import { startTestGateway, waitFor, signedFetch, type TestGateway } from './helpers/gateway.js';

const URL = process.env.MAILBEACON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `mb_gw_${process.pid}_${Date.now().toString(36)}`;

async function unreachable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}
const whyNot = await unreachable();
if (whyNot && process.env.CI !== 'true') console.warn(`gateway-postgres: SKIPPED, PostgreSQL not reachable (${whyNot})`);
const suite = whyNot && process.env.CI !== 'true' ? describe.skip : describe;

suite('two gateways on one PostgreSQL database', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    if (whyNot) throw new Error(`PostgreSQL is required in CI: ${whyNot}`);
    const env = { MAILBEACON_DATABASE_URL: URL, MAILBEACON_DATABASE_SCHEMA: SCHEMA };
    a = await startTestGateway(env);
    // Instance b shares the database and a's tracking keys (copied before it starts).
    b = await startTestGateway(env, {
      beforeStart: (dataDir) => copyFileSync(path.join(a.dataDir, 'tracking-keys.json'), path.join(dataDir, 'tracking-keys.json')),
    });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    if (!whyNot) {
      const c = new pg.Client({ connectionString: URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await c.end();
    }
  });

  it('sends through one instance and records opens served by either', async () => {
    const ses = a.ses();
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'scaled' }));
    const made = await signedFetch(a, 'POST', '/v2/email/configuration-sets/scaled/event-destinations', {
      EventDestinationName: 'hook',
      EventDestination: { Enabled: true, MatchingEventTypes: ['OPEN'], WebhookDestination: { Url: 'http://127.0.0.1:9/never' } },
    });
    expect(made.status).toBe(200);
    // b's credentials work on a's data: both read the same access_keys table.
    const { MessageId } = await b.ses().send(new SendEmailCommand({
      FromEmailAddress: 'news@example.com',
      Destination: { ToAddresses: ['reader@example.net'] },
      ConfigurationSetName: 'scaled',
      Content: { Simple: { Subject: { Data: 'Scaled' }, Body: { Html: { Data: '<p>hi</p>' } } } },
    }));
    const parsed = await PostalMime.parse((await a.gw.store.getMessageRaw(MessageId!))!);
    const pixel = /<img src="([^"]+)"/.exec(parsed.html ?? '')?.[1];
    expect(pixel).toBeTruthy();
    const pixelPath = new globalThis.URL(pixel!).pathname;
    for (const gw of [a, b, a]) {
      const res = await fetch(gw.gw.trackingUrl + pixelPath, { headers: { 'user-agent': 'scale-test' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
    }
    const events = await waitFor(async () => {
      const ev = (await b.gw.store.listMessageEvents(MessageId!)).filter((e) => e.kind === 'Open');
      return ev.length === 3 ? ev : undefined;
    }, 'three opens');
    expect(events.map((e) => e.seq)).toEqual([...new Set(events.map((e) => e.seq))]);
    expect(events.every((e) => e.detail.userAgent === 'scale-test')).toBe(true);
    expect((await a.gw.store.getMessage(MessageId!))?.openCount).toBe(3);
  });
});
