// Shared plumbing for CLI subcommands: load the validated config, open the data dir's
// store beside a running server (SQLite WAL lets both work at once), and turn failures
// into a message on stderr with a non-zero exit code (never a stack trace for user errors).
import { loadConfig, ConfigError, type Config } from '../config.js';
import { openStore } from '../server.js';
import type { Store } from '../store/port.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export async function withStore<T>(fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const { store } = await openStore(config);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

/** Wraps a subcommand action: exit 2 for usage/config errors, 1 for anything else. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const err = e as Error;
      process.stderr.write(`mailbeacon: ${err.message}\n`);
      process.exitCode = err instanceof UsageError || err instanceof ConfigError ? 2 : 1;
    }
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Accepts an ISO 8601 time or a relative age like "2h" / "3d" (meaning: that long ago). */
export function parseTime(label: string, value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const rel = /^(\d+)(s|m|h|d)$/.exec(value);
  if (rel) return now - Number(rel[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`${label}: expected an ISO 8601 time or an age like 2h, got "${value}"`);
  return t;
}
