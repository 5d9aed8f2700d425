// The Sink type every destination kind implements (webhook, Kinesis-compatible stream,
// later NATS). The dispatcher owns scheduling and the store; a sink only tries once per
// item and says what happened. Call order: deliver() any number of times, then close().
import type { Destination, NotificationJob } from '../store/port.js';

export type SinkOutcome =
  /** The other side confirmed (2xx, PutRecords entry without ErrorCode). */
  | { result: 'delivered'; status: string }
  /** Temporary failure; the dispatcher schedules the next attempt (no sooner than retryAfterMs). */
  | { result: 'retry'; status: string; retryAfterMs?: number }
  /** Permanent failure of this notification: dead-letter it now. */
  | { result: 'dead'; status: string }
  /** The destination is gone for good (webhook 410): disable it, dead-letter this one. */
  | { result: 'disable'; status: string; reason: string };

export interface SinkItem {
  job: NotificationJob;
  /** The rendered notification JSON (model.ts renderEvent), identical on every attempt. */
  body: string;
}

export interface Sink {
  /**
   * Tries each item once and returns one outcome per item, in the same order. Items of one
   * call belong to one destination and to distinct messages (the store hands out at most
   * one pending notification per message), so they may be sent concurrently.
   * Must not throw for delivery failures; `signal` aborts in-flight work on shutdown.
   */
  deliver(dest: Destination, items: SinkItem[], signal: AbortSignal): Promise<SinkOutcome[]>;
  /** Largest useful batch (webhook: concurrent requests; Kinesis: records per PutRecords). */
  readonly batchSize: number;
  close(): Promise<void>;
}
