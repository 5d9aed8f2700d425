// Kinesis-compatible stream sink (Postbox's KinesisFirehoseDestination, i.e. Yandex Data
// Streams, or AWS Kinesis Data Streams): PutRecords through @aws-sdk/client-kinesis (SigV4
// and credentials from the SDK's default provider chain), partition key = messageId so a
// message's events land on one shard in order. Only records whose entry failed are
// re-sent. Trusts the ARN only after kinesis-arn.ts has parsed it.
import { KinesisClient, PutRecordsCommand, type KinesisClientConfig, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { parseStreamArn, type StreamTarget } from './kinesis-arn.js';
import type { Sink, SinkItem, SinkOutcome } from './sink.js';

/** PutRecords limits (Kinesis API reference): 500 records, 1 MiB per record, 5 MiB per call. */
const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_CALL_BYTES = 5 * 1024 * 1024 - 64 * 1024;
export const KINESIS_BATCH = 100;
/** Quick in-call re-sends of failed entries (throttled shards usually clear in ms). */
const RESEND_DELAYS_MS = [100, 400];
/** Errors no retry can fix: the request itself is wrong. Everything else retries. */
const PERMANENT = new Set(['InvalidArgumentException', 'ValidationException', 'SerializationException']);

export interface KinesisSinkOptions {
  timeoutMs?: number;
  /** Extra client settings (tests: static credentials). Region/endpoint come from the ARN. */
  clientConfig?: Partial<KinesisClientConfig>;
  resendDelaysMs?: number[];
}

export function createKinesisSink(opts: KinesisSinkOptions = {}): Sink {
  const clients = new Map<string, KinesisClient>();
  const resendDelays = opts.resendDelaysMs ?? RESEND_DELAYS_MS;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  function clientFor(t: StreamTarget): KinesisClient {
    const key = `${t.region}|${t.endpoint ?? ''}`;
    let c = clients.get(key);
    if (!c) {
      c = new KinesisClient({
        region: t.region,
        ...(t.endpoint ? { endpoint: t.endpoint } : {}),
        maxAttempts: 2,
        // HTTP/1.1 with keep-alive: the Kinesis client defaults to HTTP/2 (for SubscribeToShard),
        // which Kinesis-compatible services such as kinesalite and YDS gateways need not speak.
        requestHandler: new NodeHttpHandler({ requestTimeout: timeoutMs, connectionTimeout: timeoutMs }),
        ...opts.clientConfig,
      });
      clients.set(key, c);
    }
    return c;
  }

  /** Sends `chunk` (indices into `out`) in one PutRecords, then re-sends only failed entries. */
  async function sendChunk(client: KinesisClient, streamName: string, items: SinkItem[], chunk: number[], out: SinkOutcome[], signal: AbortSignal): Promise<void> {
    let pending = chunk.map((i) => ({ i, entry: { Data: Buffer.from(items[i]!.body), PartitionKey: items[i]!.job.event.messageId } as PutRecordsRequestEntry }));
    for (let round = 0; pending.length > 0; round++) {
      const failed: typeof pending = [];
      try {
        const res = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: pending.map((p) => p.entry) }), { abortSignal: signal });
        const recs = res.Records ?? [];
        pending.forEach((p, k) => {
          const r = recs[k];
          if (r && !r.ErrorCode && r.SequenceNumber) out[p.i] = { result: 'delivered', status: `seq ${r.SequenceNumber}` };
          else {
            out[p.i] = { result: 'retry', status: r?.ErrorCode ? `${r.ErrorCode}` : 'no result for record' };
            failed.push(p);
          }
        });
      } catch (e) {
        const err = e as Error & { $metadata?: { httpStatusCode?: number } };
        const name = signal.aborted ? 'aborted (shutdown)' : err.name || 'Error';
        const permanent = PERMANENT.has(err.name);
        for (const p of pending) out[p.i] = permanent ? { result: 'dead', status: `${name}: ${err.message.slice(0, 200)}` } : { result: 'retry', status: name };
        return; // whole-call failure: the dispatcher's backoff handles it
      }
      const delay = resendDelays[round];
      if (failed.length === 0 || delay === undefined || signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay));
      pending = failed;
    }
  }

  return {
    batchSize: KINESIS_BATCH,
    async deliver(dest, items, signal) {
      const out: SinkOutcome[] = items.map(() => ({ result: 'retry', status: 'not attempted' }));
      const arn = (dest.settings as { DeliveryStreamArn?: unknown }).DeliveryStreamArn;
      let target: StreamTarget;
      try {
        if (typeof arn !== 'string') throw new Error('destination has no DeliveryStreamArn');
        target = parseStreamArn(arn);
      } catch (e) {
        return items.map(() => ({ result: 'dead', status: (e as Error).message }));
      }
      const client = clientFor(target);
      // Split into calls under the per-call byte limit; oversized records are dead at once.
      let chunk: number[] = [];
      let bytes = 0;
      for (let i = 0; i < items.length; i++) {
        const it = items[i]!;
        const size = Buffer.byteLength(it.body) + Buffer.byteLength(it.job.event.messageId);
        if (size > MAX_RECORD_BYTES) {
          out[i] = { result: 'dead', status: `record of ${size} bytes exceeds the 1 MiB Kinesis limit` };
          continue;
        }
        if (bytes + size > MAX_CALL_BYTES && chunk.length > 0) {
          await sendChunk(client, target.streamName, items, chunk, out, signal);
          chunk = [];
          bytes = 0;
        }
        chunk.push(i);
        bytes += size;
      }
      if (chunk.length > 0) await sendChunk(client, target.streamName, items, chunk, out, signal);
      return out;
    },
    async close() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}
