// The notification dispatcher: reads the per-event delivery rows (store port) with one
// independent worker per destination, so a slow or dead subscription never delays the
// others, and hands each batch to the destination kind's Sink. Two-phase: a row is
// claimed under a lease longer than any attempt, and marked delivered only after the
// other side confirmed; otherwise it goes back on the retry schedule (full-jitter
// backoff, at least Retry-After) until notificationMaxAgeMs after it was created, then
// dead (listable, replayable). Per-message order comes from the store handing out at
// most one pending row per message. Trusts the store; trusts nothing a sink reports back
// beyond the outcome.
import { setMaxListeners } from 'node:events';
import type { Config } from '../config.js';
import type { Destination, DestinationKind, NotificationJob, Store } from '../store/port.js';
import { fullJitterBackoff } from './backoff.js';
import { createKinesisSink } from './kinesis-sink.js';
import { renderEvent } from './model.js';
import type { Sink, SinkItem, SinkOutcome } from './sink.js';
import { createWebhookSink, WEBHOOK_TIMEOUT_MS } from './webhook-sink.js';

export type { Sink, SinkItem, SinkOutcome } from './sink.js';

export interface DispatcherDeps {
  store: Store;
  config: Pick<Config, 'allowPrivateWebhooks' | 'notificationMaxAgeMs'>;
  now?: () => number;
  log?: (m: string, f?: Record<string, unknown>) => void;
  /** Delay in ms before the next attempt, given the attempts made so far (>= 1). */
  backoff?: (attempt: number) => number;
  /** How often due retries and new work are looked for when nobody calls kick(). */
  pollMs?: number;
  webhookTimeoutMs?: number;
  /** Sinks by destination kind; defaults: webhook and kinesis. Kinds without a sink are dead-lettered. */
  sinks?: Partial<Record<DestinationKind, Sink>>;
}

export interface Dispatcher {
  close(): Promise<void>;
  /** New work may be there (e.g. after an accept or an open): look now, not at the next poll. */
  kick(): void;
}

export const DEFAULT_POLL_MS = 1_000;

interface Worker {
  done: Promise<void>;
  /** Set when kick() ran while this worker was busy: look again before exiting. */
  again: boolean;
}

export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const backoff = deps.backoff ?? ((a: number) => fullJitterBackoff(a));
  const pollMs = deps.pollMs ?? DEFAULT_POLL_MS;
  const timeoutMs = deps.webhookTimeoutMs ?? WEBHOOK_TIMEOUT_MS;
  // A lease must outlive the slowest attempt, or a row could be claimed twice while in flight.
  const leaseMs = 3 * timeoutMs + 30_000;

  const ownSinks: Sink[] = [];
  const sinks: Partial<Record<DestinationKind, Sink>> = { ...deps.sinks };
  if (!sinks.webhook) ownSinks.push((sinks.webhook = createWebhookSink({ allowPrivate: config.allowPrivateWebhooks, timeoutMs, now })));
  if (!sinks.kinesis) ownSinks.push((sinks.kinesis = createKinesisSink({ timeoutMs })));

  const workers = new Map<number, Worker>();
  const abort = new AbortController();
  // Every in-flight request listens for shutdown; their number is bounded by the windows.
  setMaxListeners(0, abort.signal);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let tickAgain = false;

  async function tick(): Promise<void> {
    if (closed) return;
    if (ticking) {
      tickAgain = true;
      return;
    }
    ticking = true;
    try {
      const ids = await store.destinationsWithPending(now());
      for (const id of ids) {
        const w = workers.get(id);
        if (w) w.again = true;
        else startWorker(id);
      }
    } catch (e) {
      log('dispatcher: cannot list destinations with pending notifications', { error: (e as Error).message });
    } finally {
      ticking = false;
    }
    if (tickAgain && !closed) {
      tickAgain = false;
      void tick();
    }
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => {
      void tick().finally(schedule);
    }, pollMs);
    timer.unref?.();
  }

  function startWorker(id: number): void {
    const w: Worker = { done: Promise.resolve(), again: false };
    workers.set(id, w);
    w.done = runWorker(id, w)
      .catch((e: unknown) => log('dispatcher: worker failed; will retry at next poll', { destinationId: id, error: (e as Error).message }))
      .finally(() => workers.delete(id));
  }

  /**
   * One destination's loop: a sliding window of at most sink.batchSize notifications in
   * flight, topped up as sends finish, so one slow request holds one slot, not a whole batch.
   * Rows in flight stay leased and pending, and the store never hands out a message's next
   * row while an earlier one is pending, so the window cannot reorder a message's events.
   */
  async function runWorker(id: number, w: Worker): Promise<void> {
    const inflight = new Set<Promise<void>>();
    let inflightJobs = 0;
    try {
      while (!closed) {
        const dest = await store.getDestinationById(id);
        if (dest && !dest.enabled) return; // rows wait, pending, until the destination is enabled again
        const sink = dest ? sinks[dest.kind] : undefined;
        const size = sink?.batchSize ?? 100;
        const free = size - inflightJobs;
        // Top up once half the window is free: a claim per finished request would cost a
        // store round trip per notification.
        if (inflight.size > 0 && free < Math.ceil(size / 2)) {
          await Promise.race(inflight);
          continue;
        }
        const jobs = await store.claimNotifications(id, now(), free, leaseMs);
        if (jobs.length === 0) {
          if (inflight.size > 0) {
            await Promise.race(inflight);
            continue;
          }
          if (w.again) {
            w.again = false;
            continue;
          }
          return;
        }
        if (!dest || !sink) {
          const status = dest ? `no sink for destination type "${dest.kind}"` : 'destination deleted';
          for (const j of jobs) await store.markNotificationDead(j.id, now(), status);
          log('dispatcher: dead-lettered notifications', { destinationId: id, count: jobs.length, status });
          continue;
        }
        inflightJobs += jobs.length;
        const p: Promise<void> = deliverBatch(dest, sink, jobs)
          .catch((e: unknown) => log('dispatcher: cannot record outcomes; rows come back when their lease ends', { destinationId: id, error: (e as Error).message }))
          .finally(() => {
            inflightJobs -= jobs.length;
            inflight.delete(p);
          });
        inflight.add(p);
      }
    } finally {
      await Promise.all(inflight);
    }
  }

  async function deliverBatch(dest: Destination, sink: Sink, jobs: NotificationJob[]): Promise<void> {
    const items: SinkItem[] = jobs.map((job) => ({ job, body: JSON.stringify(renderEvent(job.event, job.mail)) }));
    let outcomes: SinkOutcome[];
    try {
      outcomes = await sink.deliver(dest, items, abort.signal);
    } catch (e) {
      // A sink must not throw; if it does, nothing was confirmed, so everything retries.
      outcomes = jobs.map(() => ({ result: 'retry', status: `internal error: ${(e as Error).message}` }));
    }
    let disabled = false;
    for (let k = 0; k < jobs.length; k++) {
      const job = jobs[k]!;
      const o: SinkOutcome = outcomes[k] ?? { result: 'retry', status: 'sink returned no outcome' };
      const t = now();
      switch (o.result) {
        case 'delivered':
          await store.markNotificationDelivered(job.id, t, o.status);
          break;
        case 'dead':
          await store.markNotificationDead(job.id, t, o.status);
          log('dispatcher: notification dead-lettered', { destinationId: dest.id, eventId: job.event.eventId, status: o.status });
          break;
        case 'disable':
          if (!disabled) {
            disabled = true;
            await store.disableDestination(dest.id, o.reason);
            log('dispatcher: destination disabled', { destinationId: dest.id, reason: o.reason });
          }
          await store.markNotificationDead(job.id, t, o.status);
          break;
        case 'retry': {
          if (closed && o.status.startsWith('aborted')) {
            // Shutdown, not the receiver's fault: due again at once after restart, no backoff.
            await store.markNotificationRetry(job.id, t, o.status);
            break;
          }
          const deadline = job.createdAt + config.notificationMaxAgeMs;
          if (t >= deadline) {
            await store.markNotificationDead(job.id, t, `gave up after ${job.attempts + 1} attempts; last: ${o.status}`);
            log('dispatcher: notification expired', { destinationId: dest.id, eventId: job.event.eventId, status: o.status });
            break;
          }
          const delay = Math.max(backoff(Math.max(1, job.attempts + 1)), o.retryAfterMs ?? 0);
          // One last attempt at the deadline rather than dying early with time left.
          await store.markNotificationRetry(job.id, Math.min(t + delay, deadline), o.status);
          break;
        }
      }
    }
  }

  void tick();
  schedule();

  return {
    kick() {
      void tick();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await Promise.all([...workers.values()].map((w) => w.done));
      await Promise.all(ownSinks.map((s) => s.close()));
    },
  };
}
