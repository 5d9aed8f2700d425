// Kinesis sink against kinesalite (an independent Kinesis implementation) started in-process
// on a free port: records read back with @aws-sdk/client-kinesis must equal the rendered
// notification JSON; a real HTTP proxy in front of kinesalite fails one PutRecords entry to
// check that only that record is re-sent. ARN parsing is pinned on Postbox's documented form.
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createKinesisSink } from '../src/events/kinesis-sink.js';
import { parseStreamArn } from '../src/events/kinesis-arn.js';
import { renderEvent } from '../src/events/model.js';
import { startDispatcher } from '../src/events/dispatcher.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Destination, NotificationJob } from '../src/store/port.js';

const require = createRequire(import.meta.url);
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

let kinesalite: http.Server;
let endpoint: string;
let client: KinesisClient;

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function createStream(name: string): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  for (let i = 0; i < 100; i++) {
    const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

async function readAll(name: string): Promise<{ data: string; partitionKey: string }[]> {
  const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
  const shardId = d.StreamDescription!.Shards![0]!.ShardId!;
  const it = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
  const res = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator!, Limit: 1000 }));
  return (res.Records ?? []).map((r) => ({ data: Buffer.from(r.Data!).toString('utf8'), partitionKey: r.PartitionKey! }));
}

function job(id: number, messageId: string, seq: number): NotificationJob {
  return {
    id,
    destinationId: 1,
    attempts: 0,
    createdAt: Date.now(),
    mail: { timestamp: '2026-01-01T00:00:00.000Z', messageId, identityId: 'example.com', commonHeaders: { from: ['a@example.com'], to: ['b@example.org'], subject: 'Привет' }, tags: { k: ['v'] } },
    event: {
      messageId, seq, eventId: `${messageId}:${seq}`, kind: 'Open', at: Date.now(),
      detail: { ipAddress: '203.0.113.9', timestamp: '2026-01-01T00:00:01.000Z', userAgent: 'Mozilla/5.0' },
    },
  };
}

function dest(arn: string): Destination {
  return {
    id: 1, configSetName: 'cs', name: 'stream', enabled: true, matchingEventTypes: ['OPEN'], kind: 'kinesis',
    settings: { DeliveryStreamArn: arn, IamRoleArn: 'arn:aws:iam::123:role/x' }, disabledReason: null, createdAt: Date.now(),
  };
}

const items = (jobs: NotificationJob[]) => jobs.map((j) => ({ job: j, body: JSON.stringify(renderEvent(j.event, j.mail)) }));

beforeAll(async () => {
  kinesalite = require('kinesalite')({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  const port = await listen(kinesalite);
  endpoint = `http://127.0.0.1:${port}`;
  client = new KinesisClient({ region: 'ru-central1', endpoint, credentials, requestHandler: new NodeHttpHandler() });
});

afterAll(async () => {
  client?.destroy();
  await new Promise((r) => kinesalite?.close(r));
});

describe('parseStreamArn', () => {
  it('takes the endpoint URL and the stream after the last colon (Postbox form)', () => {
    expect(parseStreamArn('arn:aws:kinesis:ru-central1:b1g123:http://127.0.0.1:4567:my-stream')).toEqual({
      region: 'ru-central1', endpoint: 'http://127.0.0.1:4567', streamName: 'my-stream',
    });
    // Yandex Data Streams: the URL path is the stream's database, part of the full stream name.
    expect(parseStreamArn('arn:aws:kinesis:ru-central1:b1gabc:https://yds.serverless.yandexcloud.net/ru-central1/b1gabc/etn456:my-stream')).toEqual({
      region: 'ru-central1', endpoint: 'https://yds.serverless.yandexcloud.net', streamName: '/ru-central1/b1gabc/etn456/my-stream',
    });
  });
  it('accepts a plain AWS Kinesis stream ARN (SDK default endpoint)', () => {
    expect(parseStreamArn('arn:aws:kinesis:eu-west-1:123456789012:stream/events')).toEqual({ region: 'eu-west-1', endpoint: undefined, streamName: 'events' });
  });
  it('refuses malformed ARNs with a clear message', () => {
    expect(() => parseStreamArn('nope')).toThrow(/must start with "arn:"/);
    expect(() => parseStreamArn('arn:aws:kinesis:r:a:https://host')).toThrow(/endpoint-url>:<stream-name/);
    expect(() => parseStreamArn('arn:aws:firehose:us-east-1:1:deliverystream/x')).toThrow(/Firehose/);
    expect(() => parseStreamArn('arn:aws:kinesis:us-east-1:1:table/x')).toThrow(/stream\/NAME/);
    expect(() => parseStreamArn('arn:aws:kinesis:ru-central1:b:https://u:p@host:s')).toThrow(/credentials/);
  });
});

describe('kinesis sink', () => {
  it('PutRecords the rendered event JSON with partition key = messageId, read back identical', async () => {
    await createStream('events-a');
    const sink = createKinesisSink({ clientConfig: { credentials } });
    const jobs = [job(1, 'msg-1', 1), job(2, 'msg-2', 1), job(3, 'msg-3', 4)];
    const its = items(jobs);
    const out = await sink.deliver(dest(`arn:aws:kinesis:ru-central1:b1g:${endpoint}:events-a`), its, new AbortController().signal);
    await sink.close();
    expect(out.map((o) => o.result)).toEqual(['delivered', 'delivered', 'delivered']);
    const recs = await readAll('events-a');
    expect(recs).toEqual(its.map((i) => ({ data: i.body, partitionKey: i.job.event.messageId })));
    expect(JSON.parse(recs[2]!.data)).toMatchObject({ eventType: 'Open', eventId: 'msg-3:4', mail: { messageId: 'msg-3' }, open: { ipAddress: '203.0.113.9' } });
  });

  it('an unknown stream is a retry; a malformed ARN is dead at once', async () => {
    const sink = createKinesisSink({ clientConfig: { credentials } });
    const signal = new AbortController().signal;
    const [missing] = await sink.deliver(dest(`arn:aws:kinesis:ru-central1:b1g:${endpoint}:no-such-stream`), items([job(1, 'm', 1)]), signal);
    expect(missing).toMatchObject({ result: 'retry', status: 'ResourceNotFoundException' });
    const [bad] = await sink.deliver(dest('arn:aws:kinesis:nowhere'), items([job(1, 'm', 1)]), signal);
    expect(bad!.result).toBe('dead');
    await sink.close();
  });

  it('re-sends only the record whose PutRecords entry failed', async () => {
    await createStream('events-b');
    // A real HTTP hop in front of kinesalite that marks entry #1 of the first PutRecords failed.
    const seen: { target: string; records: number; keys: string[] }[] = [];
    let failedOnce = false;
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const target = String(req.headers['x-amz-target'] ?? '');
        let keys: string[] = [];
        if (target.endsWith('PutRecords')) {
          const parsed = JSON.parse(body.toString()) as { Records: { PartitionKey: string }[] };
          keys = parsed.Records.map((r) => r.PartitionKey);
        }
        seen.push({ target, records: keys.length, keys });
        const up = http.request(`${endpoint}${req.url}`, { method: req.method, headers: req.headers }, (ur) => {
          const uc: Buffer[] = [];
          ur.on('data', (c: Buffer) => uc.push(c));
          ur.on('end', () => {
            let out = Buffer.concat(uc);
            if (target.endsWith('PutRecords') && !failedOnce && ur.statusCode === 200) {
              failedOnce = true;
              const r = JSON.parse(out.toString()) as { FailedRecordCount: number; Records: Record<string, unknown>[] };
              r.Records[1] = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' };
              r.FailedRecordCount = 1;
              out = Buffer.from(JSON.stringify(r));
            }
            const headers = { ...ur.headers, 'content-length': String(out.length) };
            res.writeHead(ur.statusCode ?? 500, headers);
            res.end(out);
          });
        });
        up.on('error', () => { res.writeHead(502); res.end(); });
        up.end(body);
      });
    });
    const port = await listen(proxy);
    try {
      const sink = createKinesisSink({ clientConfig: { credentials }, resendDelaysMs: [10] });
      const jobs = [job(1, 'p-1', 1), job(2, 'p-2', 1), job(3, 'p-3', 1)];
      const out = await sink.deliver(dest(`arn:aws:kinesis:ru-central1:b1g:http://127.0.0.1:${port}:events-b`), items(jobs), new AbortController().signal);
      await sink.close();
      expect(out.map((o) => o.result)).toEqual(['delivered', 'delivered', 'delivered']);
      const puts = seen.filter((s) => s.target.endsWith('PutRecords'));
      expect(puts.map((p) => p.keys)).toEqual([['p-1', 'p-2', 'p-3'], ['p-2']]);
      // kinesalite did store the "failed" entry too (the proxy only lied about it): at least once.
      const keys = (await readAll('events-b')).map((r) => r.partitionKey);
      expect(keys).toEqual(['p-1', 'p-2', 'p-3', 'p-2']);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });

  it('a failed entry that keeps failing comes back as retry with its ErrorCode', async () => {
    await createStream('events-c');
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const up = http.request(`${endpoint}${req.url}`, { method: req.method, headers: req.headers }, (ur) => {
          const uc: Buffer[] = [];
          ur.on('data', (c: Buffer) => uc.push(c));
          ur.on('end', () => {
            const r = JSON.parse(Buffer.concat(uc).toString()) as { FailedRecordCount: number; Records: Record<string, unknown>[] };
            r.Records[0] = { ErrorCode: 'InternalFailure', ErrorMessage: 'x' };
            const out = Buffer.from(JSON.stringify(r));
            res.writeHead(200, { ...ur.headers, 'content-length': String(out.length) });
            res.end(out);
          });
        });
        up.end(Buffer.concat(chunks));
      });
    });
    const port = await listen(proxy);
    try {
      const sink = createKinesisSink({ clientConfig: { credentials }, resendDelaysMs: [5, 5] });
      const out = await sink.deliver(dest(`arn:aws:kinesis:ru-central1:b1g:http://127.0.0.1:${port}:events-c`), items([job(1, 'q-1', 1), job(2, 'q-2', 1)]), new AbortController().signal);
      await sink.close();
      expect(out).toEqual([{ result: 'retry', status: 'InternalFailure' }, expect.objectContaining({ result: 'delivered' })]);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('dispatcher -> kinesis destination (store-backed)', () => {
  it('delivers every event of a message to the stream via the default credential chain', async () => {
    // The dispatcher's own Kinesis sink takes credentials from the standard AWS variables.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDENV';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    await createStream('events-d');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-kinesis-'));
    const store = openSqliteStore({ file: path.join(dir, 'db.sqlite') });
    await store.init();
    const dispatcher = startDispatcher({ store, config: { allowPrivateWebhooks: true, notificationMaxAgeMs: 60_000 }, pollMs: 30, backoff: () => 30 });
    try {
      await store.createConfigSet({ name: 'cs', createdAt: Date.now(), options: {} });
      const d = await store.createDestination({
        configSetName: 'cs', name: 'yds', enabled: true, matchingEventTypes: ['SEND', 'OPEN'], kind: 'kinesis',
        settings: { DeliveryStreamArn: `arn:aws:kinesis:ru-central1:b1gfolder:${endpoint}:events-d`, IamRoleArn: 'arn:aws:iam::1:role/r' },
        disabledReason: null, createdAt: Date.now(),
      });
      const ids = ['0100-k-1', '0100-k-2'];
      for (const id of ids) {
        const at = Date.now();
        await store.acceptMessage({
          id, acceptedAt: at, identity: 'example.com', mailFrom: 'a@example.com', configSetName: 'cs', recipients: ['b@example.org'],
          tracked: true, injectOutcome: 'injected', raw: Buffer.from('Subject: x\r\n\r\nx\r\n'), deliveryOptions: {},
          mail: { timestamp: new Date(at).toISOString(), messageId: id, identityId: 'example.com', commonHeaders: { subject: 'x' }, tags: {} },
        }, [{ destinationId: d.id, eventTypes: ['SEND', 'OPEN'] }], [{ kind: 'Send', at, detail: {} }]);
        await store.recordOpens([1, 2].map((k) => ({ messageId: id, at: at + k, ipAddress: '198.51.100.4', userAgent: 'UA' })));
      }
      dispatcher.kick();
      const end = Date.now() + 10_000;
      while ((await store.listNotifications({ destinationId: d.id, state: 'delivered' }, 100)).length < 6 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const rows = await store.listNotifications({ destinationId: d.id }, 100);
      expect(rows.map((r) => r.state)).toEqual(Array(6).fill('delivered'));
      // Expected documents, rendered independently from what the store holds.
      const expected: { data: string; partitionKey: string }[] = [];
      for (const id of ids) {
        const msg = await store.getMessage(id);
        for (const ev of await store.listMessageEvents(id)) expected.push({ data: JSON.stringify(renderEvent(ev, msg!.mail)), partitionKey: id });
      }
      const recs = await readAll('events-d');
      expect(recs).toHaveLength(6);
      expect(new Set(recs.map((r) => r.data))).toEqual(new Set(expected.map((e) => e.data)));
      for (const r of recs) expect(r.partitionKey).toBe((JSON.parse(r.data) as { mail: { messageId: string } }).mail.messageId);
      // One shard, partition key = messageId: a message's events are in seq order in the stream.
      for (const id of ids) {
        const seqs = recs.filter((r) => r.partitionKey === id).map((r) => Number((JSON.parse(r.data) as { eventId: string }).eventId.split(':').pop()));
        expect(seqs).toEqual([1, 2, 3]);
      }
    } finally {
      await dispatcher.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
