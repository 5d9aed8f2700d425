// Entry point of the scale-out PostgreSQL store adapter: the one place the composition root
// (server.ts, cli/) imports it from. Opening creates the pool only (no connection yet);
// init() connects and applies migrations under an advisory lock.
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';

export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { SCHEMA_VERSION } from './schema.js';

/** Builds the store for one database schema. Call `await store.init()` before use. */
export function openPostgresStore(opts: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(opts);
}
