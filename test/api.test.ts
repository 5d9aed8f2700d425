// Whole-API tests: the real @aws-sdk/client-sesv2 client against createApiServer over a real
// SQLite file and the real Submitter; hand-signed fetch for bad input. After every bad request
// the server must still answer a good one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import PostalMime from 'postal-mime';
import {
  AlreadyExistsException, BadRequestException, CreateConfigurationSetCommand, CreateConfigurationSetEventDestinationCommand,
  CreateEmailIdentityCommand, DeleteConfigurationSetCommand, DeleteConfigurationSetEventDestinationCommand,
  DeleteEmailIdentityCommand, GetConfigurationSetCommand, GetConfigurationSetEventDestinationsCommand, GetEmailIdentityCommand,
  ListConfigurationSetsCommand, ListEmailIdentitiesCommand, MailFromDomainNotVerifiedException, MessageRejected, NotFoundException,
  PutConfigurationSetDeliveryOptionsCommand, PutConfigurationSetReputationOptionsCommand, PutConfigurationSetSendingOptionsCommand,
  PutConfigurationSetSuppressionOptionsCommand, PutConfigurationSetTrackingOptionsCommand, PutEmailIdentityConfigurationSetAttributesCommand,
  SendEmailCommand, SESv2Client, SESv2ServiceException, TooManyRequestsException, UpdateConfigurationSetEventDestinationCommand,
} from '@aws-sdk/client-sesv2';
import { startApiHarness, type ApiHarness } from './helpers/api-harness.js';

let h: ApiHarness;
let ses: SESv2Client;

beforeAll(async () => {
  h = await startApiHarness({ MAILBEACON_MAX_MESSAGE_BYTES: '200000', MAILBEACON_MAX_RECIPIENTS: '5' });
  ses = h.ses();
});
afterAll(async () => {
  ses?.destroy();
  await h?.stop();
});

async function stillServing(): Promise<void> {
  const r = await ses.send(new ListConfigurationSetsCommand({}));
  expect(Array.isArray(r.ConfigurationSets)).toBe(true);
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

async function jsonError(r: Response, status: number, code: string): Promise<string> {
  expect(r.status).toBe(status);
  expect(r.headers.get('x-amzn-errortype')).toBe(code);
  const body = (await r.json()) as { Code: string; message: string };
  expect(body.Code).toBe(code);
  expect(typeof body.message).toBe('string');
  return body.message;
}

describe('identities', () => {
  it('creates, gets, lists, binds and deletes', async () => {
    const created = await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'Example.COM' }));
    expect(created.IdentityType).toBe('DOMAIN');
    expect(created.VerifiedForSendingStatus).toBe(true);
    expect(created.DkimAttributes).toBeDefined();
    const addr = await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'solo@other.test' }));
    expect(addr.IdentityType).toBe('EMAIL_ADDRESS');

    const dup = await errorOf(ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' })));
    expect(dup).toBeInstanceOf(AlreadyExistsException);

    const got = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    expect(got.IdentityType).toBe('DOMAIN');
    expect(got.VerifiedForSendingStatus).toBe(true);
    expect(got.ConfigurationSetName).toBeUndefined();

    const list = await ses.send(new ListEmailIdentitiesCommand({ PageSize: 1 }));
    expect(list.EmailIdentities).toHaveLength(1);
    expect(list.NextToken).toBeTruthy();
    const rest = await ses.send(new ListEmailIdentitiesCommand({ PageSize: 10, NextToken: list.NextToken }));
    const names = [...list.EmailIdentities!, ...rest.EmailIdentities!].map((i) => i.IdentityName).sort();
    expect(names).toEqual(['example.com', 'solo@other.test']);

    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'bind-me' }));
    await ses.send(new PutEmailIdentityConfigurationSetAttributesCommand({ EmailIdentity: 'example.com', ConfigurationSetName: 'bind-me' }));
    expect((await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }))).ConfigurationSetName).toBe('bind-me');
    const noSet = await errorOf(ses.send(new PutEmailIdentityConfigurationSetAttributesCommand({ EmailIdentity: 'example.com', ConfigurationSetName: 'nope' })));
    expect(noSet).toBeInstanceOf(NotFoundException);

    await ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'solo@other.test' }));
    expect(await errorOf(ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'solo@other.test' })))).toBeInstanceOf(NotFoundException);
    expect(await errorOf(ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'solo@other.test' })))).toBeInstanceOf(NotFoundException);
    expect(await errorOf(ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'not a domain!' })))).toBeInstanceOf(BadRequestException);
  });
});

describe('configuration sets and event destinations', () => {
  it('creates, gets, lists, updates options and deletes', async () => {
    await ses.send(new CreateConfigurationSetCommand({
      ConfigurationSetName: 'cs-a',
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
      Tags: [{ Key: 'team', Value: 'mail' }],
    }));
    expect(await errorOf(ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'cs-a' })))).toBeInstanceOf(AlreadyExistsException);
    let got = await ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'cs-a' }));
    expect(got.ConfigurationSetName).toBe('cs-a');
    expect(got.DeliveryOptions?.TlsPolicy).toBe('REQUIRE');
    expect(got.Tags).toEqual([{ Key: 'team', Value: 'mail' }]);

    await ses.send(new PutConfigurationSetDeliveryOptionsCommand({ ConfigurationSetName: 'cs-a', TlsPolicy: 'OPTIONAL', MaxDeliverySeconds: 600, SendingPoolName: 'pool1' }));
    await ses.send(new PutConfigurationSetTrackingOptionsCommand({ ConfigurationSetName: 'cs-a', CustomRedirectDomain: 'click.example.com' }));
    await ses.send(new PutConfigurationSetReputationOptionsCommand({ ConfigurationSetName: 'cs-a', ReputationMetricsEnabled: true }));
    await ses.send(new PutConfigurationSetSuppressionOptionsCommand({ ConfigurationSetName: 'cs-a', SuppressedReasons: ['BOUNCE'] }));
    await ses.send(new PutConfigurationSetSendingOptionsCommand({ ConfigurationSetName: 'cs-a', SendingEnabled: true }));
    got = await ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'cs-a' }));
    expect(got.DeliveryOptions).toEqual({ TlsPolicy: 'OPTIONAL', MaxDeliverySeconds: 600, SendingPoolName: 'pool1' });
    expect(got.TrackingOptions?.CustomRedirectDomain).toBe('click.example.com');
    expect(got.ReputationOptions?.ReputationMetricsEnabled).toBe(true);
    expect(got.SuppressionOptions?.SuppressedReasons).toEqual(['BOUNCE']);
    expect(got.SendingOptions?.SendingEnabled).toBe(true);
    expect((await h.store.getConfigSet('cs-a'))?.options.DeliveryOptions?.TlsPolicy).toBe('OPTIONAL');

    expect(await errorOf(ses.send(new PutConfigurationSetDeliveryOptionsCommand({ ConfigurationSetName: 'missing', TlsPolicy: 'REQUIRE' })))).toBeInstanceOf(NotFoundException);
    expect(await errorOf(ses.send(new PutConfigurationSetDeliveryOptionsCommand({ ConfigurationSetName: 'cs-a', TlsPolicy: 'SOMETIMES' as never })))).toBeInstanceOf(BadRequestException);

    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'cs-b' }));
    const all: string[] = [];
    let token: string | undefined;
    do {
      const page = await ses.send(new ListConfigurationSetsCommand({ PageSize: 1, NextToken: token }));
      all.push(...page.ConfigurationSets!);
      token = page.NextToken;
    } while (token);
    expect(all).toEqual(expect.arrayContaining(['cs-a', 'cs-b']));
    // The older GET form of ListConfigurationSets answers the same.
    const old = await h.signedFetch('GET', '/v2/email/configuration-sets?PageSize=100');
    expect(old.status).toBe(200);
    expect(((await old.json()) as { ConfigurationSets: string[] }).ConfigurationSets).toEqual(expect.arrayContaining(['cs-a', 'cs-b']));

    await ses.send(new DeleteConfigurationSetCommand({ ConfigurationSetName: 'cs-b' }));
    expect(await errorOf(ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'cs-b' })))).toBeInstanceOf(NotFoundException);
    expect(await errorOf(ses.send(new DeleteConfigurationSetCommand({ ConfigurationSetName: 'cs-b' })))).toBeInstanceOf(NotFoundException);
    expect(await errorOf(ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'bad name!' })))).toBeInstanceOf(BadRequestException);
  });

  it('manages Kinesis destinations with the SDK (AWS shape)', async () => {
    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'cs-k' }));
    await ses.send(new CreateConfigurationSetEventDestinationCommand({
      ConfigurationSetName: 'cs-k', EventDestinationName: 'stream',
      EventDestination: {
        Enabled: true, MatchingEventTypes: ['SEND', 'OPEN'],
        KinesisFirehoseDestination: { DeliveryStreamArn: '/ru-central1/b1g/etn/mailbeacon', IamRoleArn: 'arn:role' },
      },
    }));
    const dup = await errorOf(ses.send(new CreateConfigurationSetEventDestinationCommand({
      ConfigurationSetName: 'cs-k', EventDestinationName: 'stream',
      EventDestination: { MatchingEventTypes: ['SEND'], KinesisFirehoseDestination: { DeliveryStreamArn: 'x', IamRoleArn: 'y' } },
    })));
    expect(dup).toBeInstanceOf(AlreadyExistsException);
    let list = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'cs-k' }));
    expect(list.EventDestinations).toHaveLength(1);
    expect(list.EventDestinations![0]).toMatchObject({
      Name: 'stream', Enabled: true, MatchingEventTypes: ['SEND', 'OPEN'],
      KinesisFirehoseDestination: { DeliveryStreamArn: '/ru-central1/b1g/etn/mailbeacon', IamRoleArn: 'arn:role' },
    });

    await ses.send(new UpdateConfigurationSetEventDestinationCommand({
      ConfigurationSetName: 'cs-k', EventDestinationName: 'stream',
      EventDestination: { Enabled: false, MatchingEventTypes: ['DELIVERY', 'BOUNCE', 'DELIVERY_DELAY'] },
    }));
    list = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'cs-k' }));
    expect(list.EventDestinations![0]).toMatchObject({ Enabled: false, MatchingEventTypes: ['DELIVERY', 'BOUNCE', 'DELIVERY_DELAY'] });
    expect(list.EventDestinations![0]!.KinesisFirehoseDestination?.DeliveryStreamArn).toBe('/ru-central1/b1g/etn/mailbeacon');

    const badType = await errorOf(ses.send(new CreateConfigurationSetEventDestinationCommand({
      ConfigurationSetName: 'cs-k', EventDestinationName: 'bad',
      EventDestination: { MatchingEventTypes: ['OPENED' as never], KinesisFirehoseDestination: { DeliveryStreamArn: 'x', IamRoleArn: 'y' } },
    })));
    expect(badType).toBeInstanceOf(BadRequestException);
    const noSet = await errorOf(ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'nope' })));
    expect(noSet).toBeInstanceOf(NotFoundException);

    // Other SES kinds are kept as given (kind 'other') and shown back.
    await ses.send(new CreateConfigurationSetEventDestinationCommand({
      ConfigurationSetName: 'cs-k', EventDestinationName: 'sns',
      EventDestination: { MatchingEventTypes: ['BOUNCE', 'COMPLAINT'], SnsDestination: { TopicArn: 'arn:aws:sns:us-east-1:1:t' } },
    }));
    list = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'cs-k' }));
    expect(list.EventDestinations!.find((d) => d.Name === 'sns')).toMatchObject({ Enabled: true, SnsDestination: { TopicArn: 'arn:aws:sns:us-east-1:1:t' } });
    expect((await h.store.listDestinations('cs-k')).find((d) => d.name === 'sns')?.kind).toBe('other');
    const noKind = await errorOf(ses.send(new CreateConfigurationSetEventDestinationCommand({
      ConfigurationSetName: 'cs-k', EventDestinationName: 'nokind', EventDestination: { MatchingEventTypes: ['SEND'] },
    })));
    expect(noKind).toBeInstanceOf(BadRequestException);

    await ses.send(new DeleteConfigurationSetEventDestinationCommand({ ConfigurationSetName: 'cs-k', EventDestinationName: 'stream' }));
    await ses.send(new DeleteConfigurationSetEventDestinationCommand({ ConfigurationSetName: 'cs-k', EventDestinationName: 'sns' }));
    list = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'cs-k' }));
    expect(list.EventDestinations).toEqual([]);
    expect(await errorOf(ses.send(new DeleteConfigurationSetEventDestinationCommand({ ConfigurationSetName: 'cs-k', EventDestinationName: 'stream' })))).toBeInstanceOf(NotFoundException);
  });

  it('accepts the Postbox shape (MatchingEventTypes beside EventDestination) and webhook destinations', async () => {
    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'cs-w' }));
    const r = await h.signedFetch('POST', '/v2/email/configuration-sets/cs-w/event-destinations', JSON.stringify({
      EventDestinationName: 'hook',
      MatchingEventTypes: ['OPEN', 'DELIVERY'],
      EventDestination: { Enabled: true, WebhookDestination: { Url: 'http://127.0.0.1:9/hook' } },
    }));
    expect(r.status).toBe(200);
    const r2 = await h.signedFetch('POST', '/v2/email/configuration-sets/cs-w/event-destinations', JSON.stringify({
      EventDestinationName: 'yds',
      MatchingEventTypes: ['SEND'],
      EventDestination: { KinesisFirehoseDestination: { DeliveryStreamArn: '/ru-central1/b1g/etn/s', IamRoleArn: 'sa' } },
    }));
    expect(r2.status).toBe(200);
    const list = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'cs-w' }));
    expect(list.EventDestinations!.map((d) => [d.Name, d.MatchingEventTypes])).toEqual(expect.arrayContaining([['hook', ['OPEN', 'DELIVERY']], ['yds', ['SEND']]]));
    // The SDK drops our extension member; raw JSON shows the generated secret.
    const raw = (await (await h.signedFetch('GET', '/v2/email/configuration-sets/cs-w/event-destinations')).json()) as { EventDestinations: { Name: string; WebhookDestination?: { Url: string; SigningSecret: string } }[] };
    const hook = raw.EventDestinations.find((d) => d.Name === 'hook')!;
    expect(hook.WebhookDestination!.Url).toBe('http://127.0.0.1:9/hook');
    expect(hook.WebhookDestination!.SigningSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(hook.WebhookDestination!.SigningSecret.slice(6), 'base64')).toHaveLength(24);

    // An update without SigningSecret keeps it; a given one replaces it.
    const upd = await h.signedFetch('PUT', '/v2/email/configuration-sets/cs-w/event-destinations/hook', JSON.stringify({
      MatchingEventTypes: ['OPEN'], EventDestination: { WebhookDestination: { Url: 'https://hooks.example.com/x' } },
    }));
    expect(upd.status).toBe(200);
    const stored = (await h.store.listDestinations('cs-w')).find((d) => d.name === 'hook')!;
    expect(stored.settings).toEqual({ Url: 'https://hooks.example.com/x', SigningSecret: hook.WebhookDestination!.SigningSecret });
    expect(stored.matchingEventTypes).toEqual(['OPEN']);

    for (const url of ['ftp://example.com/x', 'not a url', 'http://user:pw@example.com/']) {
      const bad = await h.signedFetch('POST', '/v2/email/configuration-sets/cs-w/event-destinations', JSON.stringify({
        EventDestinationName: 'bad', MatchingEventTypes: ['OPEN'], EventDestination: { WebhookDestination: { Url: url } },
      }));
      await jsonError(bad, 400, 'BadRequestException');
    }
    await stillServing();
  });

  it('refuses private webhook targets unless allowed', async () => {
    const strict = await startApiHarness({ MAILBEACON_ALLOW_PRIVATE_WEBHOOKS: 'false' });
    try {
      const c = strict.ses();
      await c.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 's' }));
      c.destroy();
      for (const url of ['http://127.0.0.1/x', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://localhost:8080/x']) {
        const r = await strict.signedFetch('POST', '/v2/email/configuration-sets/s/event-destinations', JSON.stringify({
          EventDestinationName: 'h', MatchingEventTypes: ['OPEN'], EventDestination: { WebhookDestination: { Url: url } },
        }));
        expect(await jsonError(r, 400, 'BadRequestException')).toMatch(/private|loopback/);
      }
      const ok = await strict.signedFetch('POST', '/v2/email/configuration-sets/s/event-destinations', JSON.stringify({
        EventDestinationName: 'h', MatchingEventTypes: ['OPEN'], EventDestination: { WebhookDestination: { Url: 'https://8.8.8.8/x' } },
      }));
      expect(ok.status).toBe(200);
    } finally {
      await strict.stop();
    }
  });
});

describe('SendEmail', () => {
  beforeAll(async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'send.test' }));
    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'track' }));
    await h.signedFetch('POST', '/v2/email/configuration-sets/track/event-destinations', JSON.stringify({
      EventDestinationName: 'opens', MatchingEventTypes: ['OPEN', 'SEND'],
      EventDestination: { WebhookDestination: { Url: 'http://127.0.0.1:9/opens' } },
    }));
  });

  it('composes Simple messages (html, text, headers, inline attachment) and tracks one recipient', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const r = await ses.send(new SendEmailCommand({
      FromEmailAddress: 'Shop Приём <news@send.test>',
      Destination: { ToAddresses: ['Ann <ann@rcpt.test>'] },
      ReplyToAddresses: ['help@send.test'],
      ConfigurationSetName: 'track',
      EmailTags: [{ Name: 'campaign', Value: 'spring-1' }],
      Content: {
        Simple: {
          Subject: { Data: 'Привет, Ann', Charset: 'UTF-8' },
          Body: { Html: { Data: '<html><body><p>Hello <img src="cid:logo1"></p></body></html>' }, Text: { Data: 'Hello' } },
          Headers: [{ Name: 'X-Campaign', Value: 'spring' }],
          Attachments: [{ RawContent: png, FileName: 'logo.png', ContentType: 'image/png', ContentDisposition: 'INLINE', ContentId: 'logo1' }],
        },
      },
    }));
    expect(r.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const m = await h.store.getMessage(r.MessageId!);
    expect(m).toMatchObject({ mailFrom: 'news@send.test', recipients: ['ann@rcpt.test'], configSetName: 'track', tracked: true, injectOutcome: 'injected' });
    const parsed = await PostalMime.parse((await h.store.getMessageRaw(r.MessageId!))!);
    expect(parsed.subject).toBe('Привет, Ann');
    expect(parsed.from?.address).toBe('news@send.test');
    expect(parsed.from?.name).toBe('Shop Приём');
    expect(parsed.replyTo?.[0]?.address).toBe('help@send.test');
    expect(parsed.text?.trim()).toBe('Hello');
    expect(parsed.html).toContain('cid:logo1');
    expect(parsed.html).toContain('127.0.0.1:8788'); // the pixel
    expect(parsed.headers.find((x) => x.key === 'x-campaign')?.value).toBe('spring');
    const att = parsed.attachments[0]!;
    expect(att.contentId).toBe('<logo1>');
    expect(att.disposition).toBe('inline');
    expect(Buffer.from(att.content as ArrayBuffer).equals(png)).toBe(true);
    expect(m!.mail.tags).toMatchObject({ campaign: ['spring-1'] });
  });

  it('renders inline templates with HTML escaping', async () => {
    const r = await ses.send(new SendEmailCommand({
      FromEmailAddress: 'news@send.test',
      Destination: { ToAddresses: ['a@rcpt.test'], CcAddresses: ['b@rcpt.test'] },
      Content: {
        Template: {
          TemplateContent: { Subject: 'Hi {{name}}', Text: 'Dear {{name}}, code {{code.v}}', Html: '<p>Dear {{name}}</p><p>{{{raw}}}</p>{{missing}}' },
          TemplateData: JSON.stringify({ name: '<Bob & "Co">', code: { v: 42 }, raw: '<b>bold</b>' }),
        },
      },
    }));
    const m = await h.store.getMessage(r.MessageId!);
    expect(m!.recipients).toEqual(['a@rcpt.test', 'b@rcpt.test']);
    expect(m!.tracked).toBe(false);
    const parsed = await PostalMime.parse((await h.store.getMessageRaw(r.MessageId!))!);
    expect(parsed.subject).toBe('Hi <Bob & "Co">');
    expect(parsed.text?.trim()).toBe('Dear <Bob & "Co">, code 42');
    expect(parsed.html).toContain('<p>Dear &lt;Bob &amp; &quot;Co&quot;&gt;</p><p><b>bold</b></p>');
    const badData = await errorOf(ses.send(new SendEmailCommand({
      FromEmailAddress: 'news@send.test', Destination: { ToAddresses: ['a@rcpt.test'] },
      Content: { Template: { TemplateContent: { Subject: 's', Text: 't' }, TemplateData: '{not json' } },
    })));
    expect(badData).toBeInstanceOf(BadRequestException);
    const stored = await errorOf(ses.send(new SendEmailCommand({
      FromEmailAddress: 'news@send.test', Destination: { ToAddresses: ['a@rcpt.test'] },
      Content: { Template: { TemplateName: 'welcome', TemplateData: '{}' } },
    })));
    expect(stored).toBeInstanceOf(NotFoundException);
  });

  it('passes Raw messages through; envelope from headers; X-Ses-Configuration-Set honoured and removed', async () => {
    const raw = [
      'From: Raw Sender <raw@send.test>', 'To: one@rcpt.test', 'Subject: raw', 'X-SES-CONFIGURATION-SET: track',
      'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', '<p>raw body</p>', '',
    ].join('\r\n');
    const r = await ses.send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(raw) } } }));
    const m = await h.store.getMessage(r.MessageId!);
    expect(m).toMatchObject({ mailFrom: 'raw@send.test', recipients: ['one@rcpt.test'], configSetName: 'track', tracked: true });
    const stored = (await h.store.getMessageRaw(r.MessageId!))!.toString('utf8');
    expect(stored).not.toMatch(/X-SES-CONFIGURATION-SET/i);
    expect(stored).toContain('<p>raw body</p>');

    // Destination given: it wins over the headers (Bcc-style fan out).
    const r2 = await ses.send(new SendEmailCommand({
      FromEmailAddress: 'other@send.test', Destination: { BccAddresses: ['x@rcpt.test', 'y@rcpt.test'] },
      Content: { Raw: { Data: Buffer.from(raw.replace('X-SES-CONFIGURATION-SET: track\r\n', '')) } },
    }));
    expect(await h.store.getMessage(r2.MessageId!)).toMatchObject({ mailFrom: 'other@send.test', recipients: ['x@rcpt.test', 'y@rcpt.test'], configSetName: null });
  });

  it('raises the SES exception classes', async () => {
    const simple = { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } };
    const unverified = await errorOf(ses.send(new SendEmailCommand({ FromEmailAddress: 'a@unknown.test', Destination: { ToAddresses: ['b@rcpt.test'] }, Content: { Simple: simple } })));
    expect(unverified).toBeInstanceOf(MailFromDomainNotVerifiedException);
    const noSet = await errorOf(ses.send(new SendEmailCommand({ FromEmailAddress: 'a@send.test', ConfigurationSetName: 'ghost', Destination: { ToAddresses: ['b@rcpt.test'] }, Content: { Simple: simple } })));
    expect(noSet).toBeInstanceOf(NotFoundException);
    const tooMany = await errorOf(ses.send(new SendEmailCommand({ FromEmailAddress: 'a@send.test', Destination: { ToAddresses: ['1@r.test', '2@r.test', '3@r.test', '4@r.test', '5@r.test', '6@r.test'] }, Content: { Simple: simple } })));
    expect(tooMany).toBeInstanceOf(MessageRejected);
    const big = Buffer.concat([Buffer.from('From: a@send.test\r\nTo: b@rcpt.test\r\nSubject: big\r\n\r\n'), Buffer.alloc(220_000, 'x')]);
    const tooBig = await errorOf(ses.send(new SendEmailCommand({ Content: { Raw: { Data: big } } })));
    expect(tooBig).toBeInstanceOf(MessageRejected);
    const noRcpt = await errorOf(ses.send(new SendEmailCommand({ FromEmailAddress: 'a@send.test', Content: { Simple: simple } })));
    expect(noRcpt).toBeInstanceOf(BadRequestException);
    const badAddr = await errorOf(ses.send(new SendEmailCommand({ FromEmailAddress: 'a@send.test', Destination: { ToAddresses: ['nobody'] }, Content: { Simple: simple } })));
    expect(badAddr).toBeInstanceOf(BadRequestException);
    const injection = await errorOf(ses.send(new SendEmailCommand({
      FromEmailAddress: 'a@send.test', Destination: { ToAddresses: ['b@rcpt.test'] },
      Content: { Simple: { ...simple, Headers: [{ Name: 'X-A', Value: 'v\r\nBcc: evil@x.test' }] } },
    })));
    expect(injection).toBeInstanceOf(BadRequestException);
    await stillServing();
  });

  it('uses the identity-bound configuration set when none is named', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'bound.test', ConfigurationSetName: 'track' }));
    const r = await ses.send(new SendEmailCommand({ FromEmailAddress: 'x@bound.test', Destination: { ToAddresses: ['b@rcpt.test'] }, Content: { Simple: { Subject: { Data: 's' }, Body: { Html: { Data: '<p>x</p>' } } } } }));
    expect((await h.store.getMessage(r.MessageId!))?.configSetName).toBe('track');
  });
});

describe('sending rate', () => {
  it('answers TooManyRequestsException past the per-key rate', async () => {
    const limited = await startApiHarness({ MAILBEACON_MAX_SEND_RATE: '0.001', MAILBEACON_SEND_BURST: '2' });
    const c = limited.ses();
    try {
      await c.send(new CreateEmailIdentityCommand({ EmailIdentity: 'rate.test' }));
      const send = () => c.send(new SendEmailCommand({ FromEmailAddress: 'a@rate.test', Destination: { ToAddresses: ['b@r.test'] }, Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } } }));
      await send();
      await send();
      const e = await errorOf(send());
      expect(e).toBeInstanceOf(TooManyRequestsException);
      expect((e as TooManyRequestsException).$metadata.httpStatusCode).toBe(429);
      // Other operations are not rate limited.
      expect((await c.send(new ListEmailIdentitiesCommand({}))).EmailIdentities).toHaveLength(1);
    } finally {
      c.destroy();
      await limited.stop();
    }
  });
});

describe('mailbeacon extension', () => {
  it('lists and inspects messages, serves raw bytes, lists dead letters and replays', async () => {
    const sent = await ses.send(new SendEmailCommand({
      FromEmailAddress: 'news@send.test', Destination: { ToAddresses: ['insp@rcpt.test'] }, ConfigurationSetName: 'track',
      Content: { Simple: { Subject: { Data: 'inspect me' }, Body: { Html: { Data: '<p>hi</p>' } } } },
    }));
    const id = sent.MessageId!;
    const list = (await (await h.signedFetch('GET', '/v2/mailbeacon/messages?PageSize=1000')).json()) as { Messages: { MessageId: string }[] };
    expect(list.Messages.map((m) => m.MessageId)).toContain(id);
    const page = (await (await h.signedFetch('GET', '/v2/mailbeacon/messages?PageSize=1')).json()) as { Messages: unknown[]; NextToken?: string };
    expect(page.Messages).toHaveLength(1);
    expect(page.NextToken).toBeTruthy();

    const detail = (await (await h.signedFetch('GET', `/v2/mailbeacon/messages/${id}`)).json()) as Record<string, any>;
    expect(detail).toMatchObject({ MessageId: id, Tracked: true, InjectOutcome: 'injected', ConfigurationSetName: 'track', OpenCount: 0 });
    expect(detail.Outbound).toEqual([expect.objectContaining({ EmailAddress: 'insp@rcpt.test', State: 'pending' })]);
    expect(detail.Events[0]).toMatchObject({ eventType: 'Send', eventId: `${id}:1`, mail: { messageId: id }, send: {} });
    expect(detail.Notifications).toEqual([expect.objectContaining({ EventId: `${id}:1`, State: 'pending', EventType: 'Send' })]);

    await h.store.recordOpens([{ messageId: id, at: Date.now(), ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0 test' }]);
    const after = (await (await h.signedFetch('GET', `/v2/mailbeacon/messages/${id}`)).json()) as Record<string, any>;
    expect(after.OpenCount).toBe(1);
    expect(after.Opens).toEqual([expect.objectContaining({ EventId: `${id}:2`, ipAddress: '203.0.113.9' })]);
    expect(after.Notifications).toHaveLength(2);

    const rawRes = await h.signedFetch('GET', `/v2/mailbeacon/messages/${id}/raw`);
    expect(rawRes.status).toBe(200);
    expect(rawRes.headers.get('content-type')).toBe('message/rfc822');
    expect(Buffer.from(await rawRes.arrayBuffer()).equals((await h.store.getMessageRaw(id))!)).toBe(true);
    await jsonError(await h.signedFetch('GET', '/v2/mailbeacon/messages/no-such-id'), 404, 'NotFoundException');

    // Dead-letter both notifications, then list by "set/name" and by id, then replay.
    const dest = (await h.store.listDestinations('track')).find((d) => d.name === 'opens')!;
    for (const n of await h.store.listNotifications({ messageId: id }, 10)) await h.store.markNotificationDead(n.id, Date.now(), 'webhook answered 500');
    const dead = (await (await h.signedFetch('GET', '/v2/mailbeacon/dead-letters?Destination=track/opens')).json()) as { DeadLetters: { MessageId: string; State: string; LastStatus: string }[] };
    expect(dead.DeadLetters.filter((d) => d.MessageId === id)).toHaveLength(2);
    expect(dead.DeadLetters.every((d) => d.State === 'dead')).toBe(true);
    const byId = (await (await h.signedFetch('GET', `/v2/mailbeacon/dead-letters?Destination=${dest.id}`)).json()) as { DeadLetters: unknown[] };
    expect(byId.DeadLetters.length).toBe(dead.DeadLetters.length);
    await jsonError(await h.signedFetch('GET', '/v2/mailbeacon/dead-letters?Destination=track/nope'), 404, 'NotFoundException');

    const rep = await h.signedFetch('POST', `/v2/mailbeacon/destinations/${dest.id}/replay`, JSON.stringify({ Since: new Date(Date.now() - 3600_000).toISOString() }));
    expect(rep.status).toBe(200);
    expect(((await rep.json()) as { Replayed: number }).Replayed).toBeGreaterThanOrEqual(2);
    expect((await h.store.listNotifications({ messageId: id, state: 'dead' }, 10))).toHaveLength(0);
    await jsonError(await h.signedFetch('POST', '/v2/mailbeacon/destinations/99999/replay', '{}'), 404, 'NotFoundException');
    await jsonError(await h.signedFetch('POST', `/v2/mailbeacon/destinations/${dest.id}/replay`, JSON.stringify({ Since: 'yesterday' })), 400, 'BadRequestException');
  });
});

describe('bad input', () => {
  const sendPath = '/v2/email/outbound-emails';

  it('malformed JSON, wrong types, bad base64, unknown route', async () => {
    await jsonError(await h.signedFetch('POST', sendPath, '{"Content": '), 400, 'BadRequestException');
    await stillServing();
    await jsonError(await h.signedFetch('POST', sendPath, '[1,2]'), 400, 'BadRequestException');
    const msg = await jsonError(await h.signedFetch('POST', sendPath, JSON.stringify({ FromEmailAddress: 'a@send.test', Destination: { ToAddresses: 'b@rcpt.test' }, Content: { Simple: {} } })), 400, 'BadRequestException');
    expect(msg).toContain('Destination.ToAddresses');
    await jsonError(await h.signedFetch('POST', sendPath, JSON.stringify({ Content: { Simple: { Subject: { Data: 1 } } }, FromEmailAddress: 'a@send.test', Destination: { ToAddresses: ['b@r.test'] } })), 400, 'BadRequestException');
    await jsonError(await h.signedFetch('POST', sendPath, JSON.stringify({ Content: { Raw: { Data: '!!!not base64***' } } })), 400, 'BadRequestException');
    await jsonError(await h.signedFetch('POST', sendPath, JSON.stringify({ Content: {} })), 400, 'BadRequestException');
    await jsonError(await h.signedFetch('POST', '/v2/configuration-sets', '{}'), 404, 'UnknownOperationException');
    await jsonError(await h.signedFetch('PATCH', '/v2/email/identities/x.test', '{}'), 404, 'UnknownOperationException');
    await jsonError(await h.signedFetch('GET', '/v2/email/identities/%E0%A4%A'), 400, 'BadRequestException');
    expect(await errorOf(ses.send(new ListConfigurationSetsCommand({ NextToken: 'garbage' })))).toBeInstanceOf(BadRequestException);
    await jsonError(await h.signedFetch('GET', '/v2/mailbeacon/messages?PageSize=0'), 400, 'BadRequestException');
    await jsonError(await h.signedFetch('GET', '/v2/mailbeacon/messages?NextToken=%7B%7D'), 400, 'BadRequestException');
    await stillServing();
  });

  it('bad signature, unknown or revoked key, missing auth, expired date, tampered body', async () => {
    await jsonError(await h.signedFetch('GET', '/v2/email/identities', undefined, { secret: 'wrong-secret' }), 403, 'SignatureDoesNotMatch');
    await jsonError(await h.signedFetch('GET', '/v2/email/identities', undefined, { accessKeyId: 'AKIANOSUCHKEY' }), 403, 'UnrecognizedClientException');
    await jsonError(await h.signedFetch('GET', '/v2/email/identities', undefined, { service: 's3' }), 403, 'SignatureDoesNotMatch');
    await jsonError(await fetch(`${h.url}/v2/email/identities`), 403, 'MissingAuthenticationTokenException');
    await jsonError(await h.signedFetch('GET', '/v2/email/identities', undefined, { signingDate: new Date(Date.now() - 20 * 60_000) }), 403, 'InvalidSignatureException');
    await jsonError(await h.signedFetch('GET', '/v2/email/identities', undefined, { signingDate: new Date(Date.now() + 20 * 60_000) }), 403, 'InvalidSignatureException');
    // Within 15 minutes is fine.
    expect((await h.signedFetch('GET', '/v2/email/identities', undefined, { signingDate: new Date(Date.now() - 10 * 60_000) })).status).toBe(200);
    // Body swapped after signing: without x-amz-content-sha256 the signature fails; with it, the hash check does.
    const body = JSON.stringify({ ConfigurationSetName: 'legit' });
    await jsonError(await h.signedFetch('POST', '/v2/email/configuration-sets', body, { bodyAfterSigning: JSON.stringify({ ConfigurationSetName: 'evil1' }) }), 403, 'SignatureDoesNotMatch');
    const sha = createHash('sha256').update(body).digest('hex');
    const m = await jsonError(await h.signedFetch('POST', '/v2/email/configuration-sets', body, { headers: { 'x-amz-content-sha256': sha }, bodyAfterSigning: JSON.stringify({ ConfigurationSetName: 'evil2' }) }), 403, 'SignatureDoesNotMatch');
    expect(m).toContain('x-amz-content-sha256');
    // Signed payload hash and UNSIGNED-PAYLOAD both work when honest.
    expect((await h.signedFetch('POST', '/v2/email/configuration-sets', JSON.stringify({ ConfigurationSetName: 'signed-hash' }), { headers: { 'x-amz-content-sha256': createHash('sha256').update(JSON.stringify({ ConfigurationSetName: 'signed-hash' })).digest('hex') } })).status).toBe(200);
    expect((await h.signedFetch('POST', '/v2/email/configuration-sets', JSON.stringify({ ConfigurationSetName: 'unsigned-payload' }), { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } })).status).toBe(200);
    expect(await h.store.getConfigSet('evil1')).toBeUndefined();
    expect(await h.store.getConfigSet('evil2')).toBeUndefined();

    await h.store.createAccessKey({ id: 'AKIAREVOKED', secret: 'revoked-secret', name: 'old', createdAt: Date.now(), revokedAt: null });
    expect((await h.signedFetch('GET', '/v2/email/identities', undefined, { accessKeyId: 'AKIAREVOKED', secret: 'revoked-secret' })).status).toBe(200);
    await h.store.revokeAccessKey('AKIAREVOKED', Date.now());
    await jsonError(await h.signedFetch('GET', '/v2/email/identities', undefined, { accessKeyId: 'AKIAREVOKED', secret: 'revoked-secret' }), 403, 'UnrecognizedClientException');

    const badSdk = new SESv2Client({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: h.credentials.accessKeyId, secretAccessKey: 'nope' }, maxAttempts: 1 });
    const e = await errorOf(badSdk.send(new ListConfigurationSetsCommand({})));
    badSdk.destroy();
    expect(e).toBeInstanceOf(SESv2ServiceException);
    expect((e as SESv2ServiceException).name).toBe('SignatureDoesNotMatch');
    expect((e as SESv2ServiceException).$metadata.httpStatusCode).toBe(403);
    await stillServing();
  });

  it('oversize body gets 413 in SES shape and the server keeps serving', async () => {
    const huge = JSON.stringify({ Content: { Raw: { Data: 'A'.repeat(400_000) } } });
    const r = await h.signedFetch('POST', sendPath, huge);
    await jsonError(r, 413, 'BadRequestException');
    await stillServing();
    // Authenticated and chunked (no Content-Length): refused while streaming, not after buffering it all.
    const chunk = new Uint8Array(64 * 1024).fill(65);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 5_000_000) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    const chunked = await h.signedFetch('POST', sendPath, undefined, { stream, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    await jsonError(chunked, 413, 'BadRequestException');
    await stillServing();
    expect(h.logs.filter((l) => l.msg.includes('internal'))).toEqual([]);
  });
});

