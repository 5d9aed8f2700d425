// How the PostgreSQL adapter talks to the server: named (prepared-once-per-connection)
// statements, and transactions on one pooled connection that are re-run whole when the
// server aborts them only because of a concurrent one. Trusts the SQL of sql.ts.
import type pg from 'pg';
import type { Named } from './sql.js';

/** Aborted only because of a concurrent transaction: safe to re-run whole. */
const RETRYABLE = new Set(['40P01' /* deadlock_detected */, '40001' /* serialization_failure */]);
const MAX_TX_ATTEMPTS = 5;

export const sqlState = (e: unknown): string | undefined => (e as { code?: unknown }).code as string | undefined;
export const isUniqueViolation = (e: unknown): boolean => sqlState(e) === '23505';

export type Db = pg.Pool | pg.PoolClient;

/** One statement's rows. */
export async function rows<R>(db: Db, stmt: Named, values: unknown[] = []): Promise<R[]> {
  return (await db.query<R & pg.QueryResultRow>({ name: stmt.name, text: stmt.text, values })).rows;
}

/** One statement's affected-row count. */
export async function changes(db: Db, stmt: Named, values: unknown[]): Promise<number> {
  return (await db.query({ name: stmt.name, text: stmt.text, values })).rowCount ?? 0;
}

/** Runs fn between BEGIN and COMMIT on one connection; durable when it resolves. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((re: Error) => { broken = re; });
      if (attempt < MAX_TX_ATTEMPTS && RETRYABLE.has(sqlState(e) ?? '')) continue;
      throw e;
    } finally {
      // A connection that could not roll back is in an unknown state: destroy it, never reuse it.
      client.release(broken);
    }
  }
}
