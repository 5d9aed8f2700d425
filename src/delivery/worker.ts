// The delivery worker (Postfix qmgr + smtp in one loop): leases due rows of the outbound
// queue in bounded batches, relays, simulates or captures each recipient, and records the
// outcome with its Delivery / Bounce / DeliveryDelay event in one store transaction. A row
// is only final after the upstream confirmed (250) or refused for good (5xx); anything else
// goes back on the retry schedule, and a crash just lets the lease run out, so a restart
// loses nothing (at-least-once: a crash between 250 and the commit may relay twice).
import { hostname as osHostname } from 'node:os';
import type { Config } from '../config.js';
import type { OutboundJob, OutboundOutcome, Store } from '../store/port.js';
import { bounced, delivered, retry, type OutcomeContext } from './outcomes.js';
import { Relay, type RelayOptions, type RelayVerdict, type TlsPolicy } from './relay.js';
import { simulatorScenario } from './simulator.js';

export interface DeliveryWorkerDeps {
  store: Store;
  config: Pick<Config, 'relayUrl' | 'deliveryMaxAgeMs'>;
  now?: () => number;
  log?: (msg: string, f?: Record<string, unknown>) => void;
  /** How often the queue is polled when nobody kicks (default 1 s). */
  pollMs?: number;
  /** Delay before retry number `attempt` (1 = after the first failure), in ms. */
  backoff?: (attempt: number) => number;
  /** Name reported as reportingMTA (default: the host name). */
  hostname?: string;
  relayOptions?: RelayOptions;
  /** Rows leased per round: the active-queue window (Postfix qmgr), default 50. */
  batchSize?: number;
  /** How long a leased row stays ours; longer than a whole batch can take (50 sends over
   *  5 connections at the 120 s socket timeout is 20 min). Default 30 min. */
  leaseMs?: number;
  /** Wait of the delay@ simulator between its DeliveryDelay and its Delivery (default 2 s). */
  simulatorDelayMs?: number;
}

export interface DeliveryWorker {
  close(): Promise<void>;
  /** Run a pass now (the composition root kicks after each accept). */
  kick(): void;
}

const MINUTE = 60_000;

/** 1 min, 2 min, 4 min ... capped at 1 h, with +-20 % jitter so retries of one outage spread. */
export function defaultBackoff(attempt: number): number {
  const base = Math.min(MINUTE * 2 ** Math.max(0, attempt - 1), 60 * MINUTE);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Messages relayed at once; each uses one pooled connection per send. */
const GROUP_CONCURRENCY = 8;
/** Rounds per pass, so one pass over a flood yields to close() and to the timers. */
const MAX_ROUNDS = 20;

export function startDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const pollMs = deps.pollMs ?? 1000;
  const backoff = deps.backoff ?? defaultBackoff;
  const hostname = deps.hostname ?? osHostname();
  const batchSize = deps.batchSize ?? 50;
  const leaseMs = deps.leaseMs ?? 30 * MINUTE;
  const simulatorDelayMs = deps.simulatorDelayMs ?? 2000;
  const relay = config.relayUrl ? new Relay(config.relayUrl, deps.relayOptions) : null;

  let closed = false;
  let again = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  function outcomeFor(job: OutboundJob, verdict: RelayVerdict): OutboundOutcome {
    const ctx: OutcomeContext = { now: now(), hostname };
    if (verdict.kind === 'delivered') return delivered(job, ctx, verdict.response);
    if (verdict.kind === 'permanent') return bounced(job, ctx, verdict.response);
    const maxSeconds = job.deliveryOptions?.MaxDeliverySeconds;
    const maxAge = typeof maxSeconds === 'number' && maxSeconds > 0
      ? Math.min(config.deliveryMaxAgeMs, maxSeconds * 1000) : config.deliveryMaxAgeMs;
    const expiresAt = job.acceptedAt + maxAge;
    if (ctx.now >= expiresAt) {
      // Retries ran out: SES reports this as a Transient bounce, status 4.4.7 (RFC 3463
      // "delivery time expired"), with the last reply as the diagnostic.
      return bounced(job, ctx, verdict.response, { bounceType: 'Transient', status: '4.4.7' });
    }
    const next = Math.min(ctx.now + Math.max(0, backoff(job.attempts + 1)), expiresAt);
    return retry(job, ctx, verdict.response, verdict.connection, next, expiresAt);
  }

  async function handle(job: OutboundJob, raw: () => Promise<Buffer | undefined>): Promise<OutboundOutcome> {
    const scenario = simulatorScenario(job.recipient);
    const ctx: OutcomeContext = { now: now(), hostname };
    switch (scenario) {
      case 'success':
        return delivered(job, ctx, '250 2.6.0 Message accepted by the mailbox simulator');
      case 'bounce':
        return bounced(job, ctx, '550 5.1.1 Mailbox does not exist (mailbox simulator)');
      case 'suppressed':
        return bounced(job, ctx, '550 5.1.1 Address is on the suppression list (mailbox simulator)', {
          subType: 'Suppressed', state: 'suppressed',
          diagnosticCode: 'The address is on the suppression list: it has a recent history of bouncing.',
        });
      case 'delay':
        if (job.delayEmitted) return delivered(job, ctx, '250 2.6.0 Message accepted by the mailbox simulator after a delay');
        return retry(job, ctx, '451 4.4.1 Temporary failure (mailbox simulator)', true,
          ctx.now + simulatorDelayMs, job.acceptedAt + config.deliveryMaxAgeMs);
      case null:
        break;
    }
    if (!relay) return delivered(job, ctx, '250 2.0.0 Captured by mailbeacon: no relay configured', 'captured');
    const bytes = await raw();
    if (!bytes) return bounced(job, ctx, '554 5.3.0 Message content is missing from the store');
    const policy: TlsPolicy = job.deliveryOptions?.TlsPolicy === 'REQUIRE' ? 'REQUIRE' : 'OPTIONAL';
    return outcomeFor(job, await relay.send(job.mailFrom, job.recipient, bytes, policy));
  }

  async function handleMessage(jobs: OutboundJob[]): Promise<void> {
    let rawPromise: Promise<Buffer | undefined> | null = null;
    const raw = () => (rawPromise ??= store.getMessageRaw(jobs[0]!.messageId));
    const outcomes = await Promise.all(jobs.map((j) => handle(j, raw).catch((e: unknown): OutboundOutcome => {
      // A bug or a store read failure: retry later rather than lose or bounce the mail.
      log('delivery: attempt failed unexpectedly', { messageId: j.messageId, error: String((e as Error)?.message ?? e) });
      return outcomeFor(j, { kind: 'temporary', response: '451 4.3.0 Internal error in the gateway', connection: false });
    })));
    try {
      await store.completeOutbound(outcomes);
    } catch (e) {
      // Not recorded: the lease runs out and the rows are tried again (at-least-once).
      log('delivery: recording outcomes failed', { messageId: jobs[0]!.messageId, error: String((e as Error)?.message ?? e) });
      return;
    }
    for (const o of outcomes) {
      if (o.state === 'retry' || o.state === 'bounced') {
        log(`delivery: ${o.state}`, { messageId: jobs[0]!.messageId, outboundId: o.outboundId, reply: o.lastError ?? undefined });
      }
    }
  }

  async function pass(): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS && !closed; round++) {
      const jobs = await store.claimOutbound(now(), batchSize, leaseMs);
      if (jobs.length === 0) return;
      const byMessage = new Map<string, OutboundJob[]>();
      for (const j of jobs) {
        const list = byMessage.get(j.messageId);
        if (list) list.push(j);
        else byMessage.set(j.messageId, [j]);
      }
      const groups = [...byMessage.values()];
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < groups.length) await handleMessage(groups[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(GROUP_CONCURRENCY, groups.length) }, lane));
      if (jobs.length < batchSize) return;
    }
    again = true; // more backlog than one pass takes: continue right away
  }

  function schedule(): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(kick, pollMs);
    timer.unref();
  }

  function kick(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    running = (async () => {
      do {
        again = false;
        try {
          await pass();
        } catch (e) {
          log('delivery: pass failed', { error: String((e as Error)?.message ?? e) });
        }
      } while (again && !closed);
    })().finally(() => {
      running = null;
      schedule();
    });
  }

  kick();

  return {
    kick,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
      relay?.close();
    },
  };
}
