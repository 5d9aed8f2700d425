// Builds the pg connection pool of one store: per-pool type parsers (int8 -> number, so the
// port gets numbers as the SQLite adapter returns them, without touching pg's global parser
// table), the schema as search_path, and server-side timeouts so a stuck peer never hangs us.
// Trusts the connection string it is given; never logs it (it may carry a password).
import pg from 'pg';

export interface PoolSettings {
  connectionString: string;
  schema: string;
  poolSize: number;
  /** Idle-client errors (server restart, network cut); the next query fails on its own. */
  onError: (e: Error) => void;
}

/** int8 columns hold ms timestamps and identity ids: far below 2^53, so Number is exact. */
function parseInt8(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${v} does not fit a JS number`);
  return n;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** Server-side guards, sent as startup options so they hold for every pooled connection. */
const SERVER_OPTIONS = [
  // A statement that waits this long is stuck (lock cycle, overloaded server): fail it, the caller retries.
  'statement_timeout=30000',
  // A process that stalls mid-transaction must not hold row locks (claims, message rows) forever.
  'idle_in_transaction_session_timeout=60000',
];

export function createPool(s: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: s.connectionString,
    max: s.poolSize,
    types,
    options: [`-c search_path=${s.schema}`, ...SERVER_OPTIONS.map((o) => `-c ${o}`)].join(' '),
    // Unreachable server: fail the call instead of waiting forever for a connection.
    connectionTimeoutMillis: 10_000,
    application_name: 'mailbeacon',
  });
  pool.on('error', s.onError);
  return pool;
}
