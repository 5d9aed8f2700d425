// Group commit for opens: every open that arrives while a commit is running, or within the
// same event-loop turn, goes into ONE store.recordOpens(batch) call (one transaction, or one
// frame of the SQLite open log); each caller is answered only after its batch is durable or
// has failed.
// A batch is bounded (maxBatch), so a flood never builds one huge transaction.
// Trusts: the store's promise that a resolved recordOpens is committed (store/port.ts).
import type { OpenInput, Store } from '../store/port.js';

/** Called once per open: err when the batch failed (nothing is claimed as recorded),
 *  otherwise the event seq, or null when the store does not know the message. */
export type OpenDone = (err: Error | null, seq: number | null) => void;

export interface GroupCommitOptions {
  /** Most opens in one transaction. */
  maxBatch?: number;
  /** Called after a batch that recorded at least one open committed. */
  onRecorded?: () => void;
}

export interface GroupCommitStats { batches: number; largestBatch: number; queued: number }

export interface OpenRecorder {
  record(open: OpenInput, done: OpenDone): void;
  /** Resolves when nothing is queued or being committed. */
  drain(): Promise<void>;
  stats(): GroupCommitStats;
}

export function createOpenRecorder(store: Pick<Store, 'recordOpens'>, options: GroupCommitOptions = {}): OpenRecorder {
  const maxBatch = options.maxBatch ?? 512;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error('group commit: maxBatch must be a positive integer');
  const onRecorded = options.onRecorded;

  let opens: OpenInput[] = [];
  let dones: OpenDone[] = [];
  let scheduled = false;
  let running = false;
  let batches = 0;
  let largestBatch = 0;
  let idleWaiters: (() => void)[] = [];

  // Flush on the next setImmediate: everything parsed in this turn of the event loop.
  const schedule = (): void => {
    scheduled = true;
    setImmediate(flush);
  };

  const settle = (batchDones: OpenDone[], err: Error | null, seqs: (number | null)[] | null): void => {
    for (let i = 0; i < batchDones.length; i++) {
      const done = batchDones[i]!;
      // One throwing callback must not leave the others of the batch unanswered.
      try {
        if (err) done(err, null);
        else done(null, seqs![i] ?? null);
      } catch {
        /* the caller's own failure; nothing to do for the batch */
      }
    }
  };

  const afterBatch = (): void => {
    running = false;
    if (opens.length > 0) schedule();
    else if (idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  function flush(): void {
    scheduled = false;
    if (running || opens.length === 0) return;
    let batchOpens: OpenInput[];
    let batchDones: OpenDone[];
    if (opens.length <= maxBatch) {
      batchOpens = opens;
      batchDones = dones;
      opens = [];
      dones = [];
    } else {
      batchOpens = opens.splice(0, maxBatch);
      batchDones = dones.splice(0, maxBatch);
    }
    running = true;
    batches++;
    if (batchOpens.length > largestBatch) largestBatch = batchOpens.length;
    let result: Promise<(number | null)[]>;
    try {
      result = store.recordOpens(batchOpens);
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (seqs) => {
        if (!Array.isArray(seqs) || seqs.length !== batchOpens.length) {
          settle(batchDones, new Error('store.recordOpens returned a result of the wrong length'), null);
        } else {
          settle(batchDones, null, seqs);
          if (onRecorded && seqs.some((s) => s !== null)) {
            try {
              onRecorded();
            } catch {
              /* a failing kick of the dispatcher must not fail the opens: they are durable */
            }
          }
        }
        afterBatch();
      },
      (e: unknown) => {
        settle(batchDones, e instanceof Error ? e : new Error(String(e)), null);
        afterBatch();
      },
    );
  }

  return {
    record(open, done) {
      opens.push(open);
      dones.push(done);
      if (!scheduled && !running) schedule();
    },
    drain() {
      if (!running && opens.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    stats: () => ({ batches, largestBatch, queued: opens.length }),
  };
}
