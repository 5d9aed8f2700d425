// Background WAL checkpoints for the SQLite store. A checkpoint copies committed pages from
// the WAL into the database file and, under synchronous=NORMAL or FULL, fsyncs: done inside
// a commit on the main thread (SQLite's auto-checkpoint), it stalls every request for that
// long (bench:pixel saw p99 jump to ~30 ms). Here a worker thread with its own connection
// runs PASSIVE checkpoints, which never block writers; the store's own connection keeps a
// high auto-checkpoint threshold only as a safety net should this thread stop.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the WAL is copied back; about one interval of commits sits in the WAL. */
export const CHECKPOINT_INTERVAL_MS = 250;
/** WAL pages (4 KiB) after which the store's own commits checkpoint anyway. */
export const SAFETY_NET_WAL_PAGES = 16_384;

// Plain JavaScript run with `eval`: the thread needs no TypeScript loader in tests or dist.
const CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
const every = workerData.intervalMs;
let timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: next interval */ }
}, every);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

export interface Checkpointer { stop(): Promise<void> }

export function startCheckpointer(file: string, intervalMs = CHECKPOINT_INTERVAL_MS): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CODE, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  // A failing checkpointer costs only latency (the safety net checkpoints), never data.
  worker.on('error', () => {});
  let exited = false;
  worker.once('exit', () => { exited = true; });
  return {
    // Unref'd while it runs, so it never keeps a process alive; but once stop() is called the
    // caller waits for the thread's exit, so it must keep the process alive until then.
    stop: () => new Promise<void>((resolve) => {
      if (exited) return resolve();
      worker.ref();
      worker.once('exit', () => resolve());
      worker.postMessage('stop');
      setTimeout(() => void worker.terminate(), 2000).unref();
    }),
  };
}
