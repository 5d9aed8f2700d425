// Entry point of the embedded SQLite store adapter: the one place the composition root
// (server.ts, cli/) imports it from. Opening is cheap; init() applies pragmas and migrations.
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { SCHEMA_VERSION } from './schema.js';

/** Opens (creating if needed) the database file. Call `await store.init()` before use. */
export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(opts);
}
