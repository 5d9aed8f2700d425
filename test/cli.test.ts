// The mailbeacon CLI as a newcomer uses it, beside a running gateway on the same data dir:
// keys, identities, captured messages, dead letters and replay, tracking key rotation, and
// the exit codes of mistakes (2 for usage, with a message, never a stack trace).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { SendEmailCommand, CreateConfigurationSetCommand } from '@aws-sdk/client-sesv2';
import { startTestGateway, waitFor, signedFetch, type TestGateway } from './helpers/gateway.js';
import { sesSmtpPassword } from '../src/smtp/index.js';

describe('mailbeacon CLI', () => {
  let t: TestGateway;
  let hook: http.Server;
  let hookStatus = 400;
  const hits: string[] = [];

  beforeAll(async () => {
    hook = http.createServer((req, res) => {
      hits.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => res.writeHead(hookStatus).end());
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    t = await startTestGateway(); // no relay: capture mode
  });
  afterAll(async () => {
    await t?.stop();
    hook?.close();
  });

  it('manages keys: list hides secrets, smtp-password derives the SES password, revoke refuses the key', async () => {
    const made = t.cli(['keys', 'create', '--name', 'second']);
    expect(made.status).toBe(0);
    const key = JSON.parse(made.stdout);
    expect(key.accessKeyId).toMatch(/^MB[A-Z2-7]{18}$/);
    expect(key.secretAccessKey).toHaveLength(40);

    const list = t.cli(['keys', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).not.toContain(key.secretAccessKey);
    expect(JSON.parse(list.stdout).map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['test', 'second']));

    const pw = t.cli(['keys', 'smtp-password', key.accessKeyId, '--region', 'ru-central1']);
    expect(pw.status).toBe(0);
    expect(JSON.parse(pw.stdout)).toEqual({ username: key.accessKeyId, password: sesSmtpPassword(key.secretAccessKey, 'ru-central1'), region: 'ru-central1' });
    expect(t.cli(['keys', 'smtp-password', key.accessKeyId, '--region', 'mars-1']).status).toBe(2);

    expect(t.cli(['keys', 'revoke', key.accessKeyId]).status).toBe(0);
    expect(JSON.parse(t.cli(['keys', 'list']).stdout).find((k: { accessKeyId: string }) => k.accessKeyId === key.accessKeyId).status).toBe('revoked');
    const revoked = t.cli(['keys', 'revoke', 'MBNOSUCHKEY']);
    expect(revoked.status).toBe(2);
    expect(revoked.stderr).toContain('no access key');
  });

  it('adds identities and refuses nonsense with exit 2', () => {
    expect(t.cli(['identities', 'add', 'Example.COM']).stdout).toContain('added example.com');
    const dup = t.cli(['identities', 'add', 'example.com']);
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain('already exists');
    const bad = t.cli(['identities', 'add', 'not a domain']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).not.toMatch(/at .*\.js/); // no stack trace
    expect(JSON.parse(t.cli(['identities', 'list']).stdout)[0].identity).toBe('example.com');
    expect(t.cli(['no-such-command']).status).toBe(2);
  });

  it('lists and shows captured messages, with --raw giving the stored bytes', async () => {
    const { MessageId } = await t.ses().send(new SendEmailCommand({
      FromEmailAddress: 'news@example.com',
      Destination: { ToAddresses: ['reader@example.net'] },
      Content: { Simple: { Subject: { Data: 'Captured one' }, Body: { Text: { Data: 'hello there' } } } },
    }));
    await waitFor(async () => (await t.gw.store.getMessage(MessageId!))?.status === 'captured', 'capture');
    const list = JSON.parse(t.cli(['messages', 'list']).stdout);
    expect(list[0]).toMatchObject({ messageId: MessageId, subject: 'Captured one', status: 'captured', recipients: ['reader@example.net'] });
    const shown = JSON.parse(t.cli(['messages', 'show', MessageId!]).stdout);
    expect(shown.status).toBe('captured');
    expect(shown.events.map((e: { eventType: string }) => e.eventType)).toEqual(['Send', 'Delivery']);
    expect(shown.recipients[0]).toMatchObject({ recipient: 'reader@example.net', state: 'captured' });
    const raw = t.cli(['messages', 'show', MessageId!, '--raw']);
    expect(raw.stdout).toContain('Subject: Captured one');
    expect(raw.stdout).toContain('hello there');
    expect(t.cli(['messages', 'show', 'nope']).status).toBe(2);
  });

  it('lists dead letters and replays them to a destination', async () => {
    await t.ses().send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'dl' }));
    const port = (hook.address() as { port: number }).port;
    const made = await signedFetch(t, 'POST', '/v2/email/configuration-sets/dl/event-destinations', {
      EventDestinationName: 'hook',
      EventDestination: { Enabled: true, MatchingEventTypes: ['SEND'], WebhookDestination: { Url: `http://127.0.0.1:${port}/h` } },
    });
    expect(made.status).toBe(200);
    hookStatus = 400; // a 4xx other than 408/410/429 dead-letters at once
    const { MessageId } = await t.ses().send(new SendEmailCommand({
      FromEmailAddress: 'news@example.com', Destination: { ToAddresses: ['x@example.net'] }, ConfigurationSetName: 'dl',
      Content: { Simple: { Subject: { Data: 'dead' }, Body: { Text: { Data: 'x' } } } },
    }));
    const eventId = `${MessageId}:1`;
    const dead = await waitFor(() => {
      const r = t.cli(['events', 'dead-letters', '--destination', 'dl/hook']);
      const rows = JSON.parse(r.stdout) as { eventId: string }[];
      return rows.some((x) => x.eventId === eventId) ? rows : undefined;
    }, 'a dead letter');
    expect(dead[0]).toMatchObject({ eventId, eventType: 'Send', lastStatus: expect.stringContaining('400') });

    hookStatus = 204;
    const before = hits.filter((h) => h === eventId).length;
    const replay = t.cli(['events', 'replay', '--destination', 'dl/hook']);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toContain('queued 1 notification');
    await waitFor(() => hits.filter((h) => h === eventId).length > before, 'the replayed notification');
    await waitFor(() => JSON.parse(t.cli(['events', 'dead-letters', '--destination', 'dl/hook']).stdout).length === 0, 'dead letters emptied');

    expect(t.cli(['events', 'replay', '--destination', 'dl/nope']).status).toBe(2);
    expect(t.cli(['events', 'replay', '--destination', 'dl/hook', '--since', 'yesterday-ish']).status).toBe(2);
  });

  it('rotates the tracking key; the running server signs with it and still verifies the old one', async () => {
    const oldUrl = t.gw.keys.sign('00000000-0000-4000-8000-000000000000');
    const before = t.gw.keys.currentKeyId;
    const r = t.cli(['keys', 'rotate-tracking']);
    expect(r.status).toBe(0);
    await waitFor(() => { t.gw.keys.reload(); return t.gw.keys.currentKeyId !== before; }, 'the new key');
    expect(t.gw.keys.verify(oldUrl)).toBe('00000000-0000-4000-8000-000000000000');
    expect(t.gw.keys.sign('00000000-0000-4000-8000-000000000000')).not.toBe(oldUrl);
  });
});
