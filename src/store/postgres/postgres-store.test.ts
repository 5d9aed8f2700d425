// Runs the store contract on a real PostgreSQL server (one fresh schema for this file, dropped
// at the end), plus what only the scale-out adapter promises: two instances (two pools, as two
// gateway processes) claiming the same queues never get the same row, concurrent opens of one
// message get distinct gap-free seqs, racing migrations, and a printed recordOpens throughput.
// Server: MAILBEACON_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessage, runStoreContract } from '../contract.js';
import { killWriterMidStream } from '../crash-writer.js';
import type { Destination, Store } from '../port.js';
import { openPostgresStore, SCHEMA_VERSION, type PostgresStore } from './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const URL = process.env.MAILBEACON_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const T0 = 1_700_000_000_000;
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const SCHEMA = `mb_test_${RUN}`;
const TABLES = 'access_keys, identities, config_sets, destinations, messages, message_raw, message_destinations, outbound, events, notifications';

/** Why the server cannot be used, or null when it answers. */
async function unreachable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return null;
  } catch (e) {
    return (e as Error).message || String(e);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const whyNot = await unreachable();
const CI = process.env.CI === 'true';
if (whyNot && !CI) {
  console.warn(`postgres-store tests SKIPPED: PostgreSQL not reachable (${whyNot}). Set MAILBEACON_TEST_POSTGRES_URL or start a server.`);
}
// In CI a missing server is a failure, not a skip: the block runs and beforeAll throws.
const suite = whyNot && !CI ? describe.skip : describe;

let admin: pg.Pool;
const schemas = new Set<string>();
const open: PostgresStore[] = [];

function store(schema = SCHEMA, poolSize?: number): PostgresStore {
  schemas.add(schema);
  const s = openPostgresStore({ connectionString: URL, schema, poolSize });
  open.push(s);
  return s;
}

suite('PostgresStore', () => {
  beforeAll(async () => {
    if (whyNot) throw new Error(`PostgreSQL is required in CI but is not reachable at MAILBEACON_TEST_POSTGRES_URL: ${whyNot}`);
    admin = new pg.Pool({ connectionString: URL, max: 2 });
    const first = store();
    await first.init();
  });

  afterAll(async () => {
    for (const s of open) await s.close();
    if (admin) {
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ANY($1)', [[...schemas]]);
      expect(rows[0].n).toBe(0);
      await admin.end();
    }
  });

  runStoreContract('postgres', async () => {
    await admin.query(`TRUNCATE ${TABLES.split(', ').map((t) => `${SCHEMA}.${t}`).join(', ')} RESTART IDENTITY CASCADE`);
    const s = openPostgresStore({ connectionString: URL, schema: SCHEMA, poolSize: 4 });
    return { store: s, cleanup: () => s.close() };
  });

  describe('PostgresStore specifics', () => {
    /** A fresh schema with a set, one destination for `types`, and two stores (two pools) on it. */
    async function twoInstances(types: Destination['matchingEventTypes']) {
      const schema = `mb_test_${RUN}_${schemas.size}`;
      const a = store(schema, 6);
      const b = store(schema, 6);
      await Promise.all([a.init(), b.init()]);
      await a.createConfigSet({ name: 'set1', createdAt: T0, options: {} });
      const dest = await a.createDestination({ configSetName: 'set1', name: 'hook', enabled: true, matchingEventTypes: types,
        kind: 'webhook', settings: {}, disabledReason: null, createdAt: T0 });
      const snap = [{ destinationId: dest.id, eventTypes: dest.matchingEventTypes }];
      return { a, b, dest, snap, schema };
    }

    it('two instances migrating one new schema at once both succeed; a newer schema is refused', async () => {
      const schema = `mb_test_${RUN}_race`;
      const starters = Array.from({ length: 4 }, () => store(schema, 1));
      await Promise.all(starters.map((s) => s.init()));
      const { rows } = await admin.query(`SELECT version FROM ${schema}.schema_version`);
      expect(rows).toEqual([{ version: SCHEMA_VERSION }]);
      await starters[0]!.createIdentity({ name: 'a.com', createdAt: T0, configurationSetName: null });
      expect(await starters[3]!.getIdentity('a.com')).toEqual({ name: 'a.com', createdAt: T0, configurationSetName: null });

      await admin.query(`UPDATE ${schema}.schema_version SET version = 999`);
      await expect(store(schema).init()).rejects.toThrow(/newer than this build/);
      await expect(store(schema).getIdentity('x')).rejects.toThrow(/init\(\)/);
      expect(() => openPostgresStore({ connectionString: URL, schema: 'Bad-Name; DROP' })).toThrow(/schema name/);
      expect(() => openPostgresStore({ connectionString: URL, poolSize: 0 })).toThrow(/poolSize/);
    });

    it('returns numbers for int8 columns and bytes for bytea', async () => {
      const { a, dest, snap } = await twoInstances(['SEND']);
      const raw = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0d, 0x0a]);
      await a.acceptMessage(newMessage('m1', { raw, acceptedAt: T0 + 123 }), snap, [{ kind: 'Send', at: T0 + 123, detail: {} }]);
      expect(typeof dest.id).toBe('number');
      const [n] = await a.listNotifications({ messageId: 'm1' }, 10);
      expect(n).toMatchObject({ id: expect.any(Number), destinationId: dest.id, nextAttemptAt: T0 + 123, createdAt: T0 + 123 });
      expect((await a.getMessage('m1'))!.acceptedAt).toBe(T0 + 123);
      expect((await a.getMessageRaw('m1'))!.equals(raw)).toBe(true);
    });

    it('init fails with a clear error, not a hang, when the server is unreachable', async () => {
      const s = openPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: 'x' });
      const t = Date.now();
      await expect(s.init()).rejects.toThrow(/ECONNREFUSED|connect/);
      expect(Date.now() - t).toBeLessThan(11_000);
      await s.close();
    });

    it('two instances claiming the same outbound rows concurrently never get the same row', async () => {
      const { a, b } = await twoInstances(['SEND']);
      const N = 300;
      for (let i = 0; i < N; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, k) =>
          a.acceptMessage(newMessage(`m${i + k}`, { acceptedAt: T0 + i + k }), [], [])));
      }
      const claimed: number[] = [];
      const worker = async (s: Store) => {
        for (;;) {
          const jobs = await s.claimOutbound(T0 + N, 7, 600_000);
          if (jobs.length === 0) return;
          claimed.push(...jobs.map((j) => j.id));
        }
      };
      await Promise.all([a, b, a, b, a, b].map(worker));
      expect(claimed).toHaveLength(N);
      expect(new Set(claimed).size).toBe(N);
      expect(await a.claimOutbound(T0 + N, 100, 1000)).toEqual([]);
      expect((await b.getMessage('m0'))!.status).toBe('sending');
    });

    it('two instances dispatching one destination never share a row and keep each message in order', async () => {
      const { a, b, dest, snap } = await twoInstances(['SEND', 'OPEN']);
      const M = 40;
      for (let i = 0; i < M; i++) {
        await a.acceptMessage(newMessage(`m${i}`), snap, [{ kind: 'Send', at: T0, detail: {} }]);
      }
      const opens = Array.from({ length: M * 3 }, (_, i) => ({ messageId: `m${i % M}`, at: T0 + 1 + i, ipAddress: '::1', userAgent: 'u' }));
      await a.recordOpens(opens);
      const total = M * 4;
      const handedOut = new Set<number>();
      const inFlight = new Set<string>();
      const delivered = new Map<string, number[]>();
      const violations: string[] = [];
      const worker = async (s: Store) => {
        for (;;) {
          const jobs = await s.claimNotifications(dest.id, T0 + 10_000, 5, 600_000);
          if (jobs.length === 0) return;
          for (const j of jobs) {
            if (handedOut.has(j.id)) violations.push(`row ${j.id} handed out twice`);
            handedOut.add(j.id);
            if (inFlight.has(j.event.messageId)) violations.push(`two rows of ${j.event.messageId} in flight`);
            inFlight.add(j.event.messageId);
          }
          await new Promise((r) => setTimeout(r, 1));
          for (const j of jobs) {
            await s.markNotificationDelivered(j.id, T0 + 20_000, '200');
            inFlight.delete(j.event.messageId);
            delivered.set(j.event.messageId, [...(delivered.get(j.event.messageId) ?? []), j.event.seq]);
          }
        }
      };
      // Workers stop when a claim comes back empty; loop until everything is delivered.
      for (let round = 0; round < 50 && handedOut.size < total; round++) await Promise.all([a, b, a, b].map(worker));
      expect(violations).toEqual([]);
      expect(handedOut.size).toBe(total);
      for (const [, seqs] of delivered) expect(seqs).toEqual([1, 2, 3, 4]);
      expect((await a.counts()).notificationsDelivered).toBe(total);
    });

    it('concurrent recordOpens from two instances give distinct, gap-free seqs (overlapping batches, no deadlock)', async () => {
      const { a, b, snap } = await twoInstances(['OPEN']);
      await a.acceptMessage(newMessage('m1'), snap, [{ kind: 'Send', at: T0, detail: {} }]);
      await a.acceptMessage(newMessage('m2'), snap, []);
      const calls: Promise<(number | null)[]>[] = [];
      const inputs: string[][] = [];
      for (let i = 0; i < 40; i++) {
        // Alternate the order of messages inside batches so naive locking would deadlock.
        const ids = i % 2 === 0 ? ['m1', 'm2', 'm1'] : ['m2', 'm1', 'ghost', 'm2'];
        inputs.push(ids);
        const s = i % 2 === 0 ? a : b;
        calls.push(s.recordOpens(ids.map((messageId, k) => ({ messageId, at: T0 + i * 10 + k, ipAddress: '::1', userAgent: 'u' }))));
      }
      const results = await Promise.all(calls);
      const seqsOf = (id: string) => results.flatMap((r, i) => r.filter((_, k) => inputs[i]![k] === id)) as number[];
      const m1 = seqsOf('m1').sort((x, y) => x - y);
      const m2 = seqsOf('m2').sort((x, y) => x - y);
      expect(m1).toEqual(Array.from({ length: 60 }, (_, i) => i + 2)); // Send is seq 1
      expect(m2).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(seqsOf('ghost').every((s) => s === null)).toBe(true);
      // Within one batch, seqs of a message follow the input order.
      for (const [i, r] of results.entries()) {
        const own = r.filter((_, k) => inputs[i]![k] === 'm1') as number[];
        expect(own).toEqual([...own].sort((x, y) => x - y));
      }
      expect((await b.getMessage('m1'))!.openCount).toBe(60);
      const events = await b.listMessageEvents('m1');
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
      expect((await a.counts()).notificationsPending).toBe(120);
    });

    it('loses no reported open and writes no half batch when the writing process is killed with SIGKILL', async () => {
      const { a, snap, schema } = await twoInstances(['OPEN']);
      await a.acceptMessage(newMessage('m1'), snap, [{ kind: 'Send', at: T0, detail: {} }]);
      // Kill mid-stream, while the child has the next batch in flight.
      const { reported, ended } = await killWriterMidStream(['postgres', URL, schema, 'm1', '7'], 140, 40_000);
      expect(ended).toBe('SIGKILL');
      // Whatever the killed connection had in flight is uncommitted, hence invisible, then rolled back.
      const msg = await a.getMessage('m1');
      expect(reported).toBeGreaterThanOrEqual(140);
      expect(msg!.openCount).toBeGreaterThanOrEqual(reported);
      expect(msg!.openCount % 7).toBe(0);
      const events = await a.listMessageEvents('m1');
      expect(events.filter((e) => e.kind === 'Open')).toHaveLength(msg!.openCount);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect((await a.counts()).notificationsPending).toBe(msg!.openCount);
    }, 60_000);

    it('without a server: fails in CI, skips with a reason elsewhere', async () => {
      const run = (ci: string) => new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', path.join(here, 'postgres-store.test.ts')], {
          cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, CI: ci, MAILBEACON_TEST_POSTGRES_URL: 'postgres://postgres@127.0.0.1:1/test', NO_COLOR: '1' },
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
        child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
        child.on('exit', (code) => resolve({ code, out }));
      });
      const [inCi, local] = await Promise.all([run('true'), run('false')]);
      expect(inCi.code).not.toBe(0);
      expect(inCi.out).toContain('PostgreSQL is required in CI');
      expect(local.code).toBe(0);
      expect(local.out).toContain('postgres-store tests SKIPPED: PostgreSQL not reachable');
    }, 90_000);

    it('measures recordOpens throughput (printed, not asserted)', async () => {
      const schema = `mb_test_${RUN}_bench`;
      const s = store(schema, 10);
      await s.init();
      await s.createConfigSet({ name: 'set1', createdAt: T0, options: {} });
      const dests = [];
      for (const n of ['a', 'b']) {
        dests.push(await s.createDestination({ configSetName: 'set1', name: n, enabled: true, matchingEventTypes: ['OPEN'],
          kind: 'webhook', settings: {}, disabledReason: null, createdAt: T0 }));
      }
      const ids = Array.from({ length: 200 }, (_, i) => `bench-${i}`);
      for (const id of ids) {
        await s.acceptMessage(newMessage(id), dests.map((d) => ({ destinationId: d.id, eventTypes: d.matchingEventTypes })), []);
      }
      const lines: string[] = [];
      // Each call is one commit (an fsync on the server), so batch 1 gets fewer opens to stay quick.
      const totals: Record<number, number> = { 1: 200, 10: 2000, 100: 3000 };
      for (const batch of [1, 10, 100]) {
        const total = totals[batch]!;
        let i = 0;
        const t = process.hrtime.bigint();
        for (let done = 0; done < total; done += batch) {
          await s.recordOpens(Array.from({ length: batch }, () => ({
            messageId: ids[i++ % ids.length]!, at: T0 + i, ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0',
          })));
        }
        const us = Number(process.hrtime.bigint() - t) / 1000 / total;
        lines.push(`batch ${String(batch).padStart(3)}: ${us.toFixed(1)} µs/open, ${Math.round(1e6 / us)} opens/s (2 OPEN destinations each, sequential)`);
      }
      // Several flushes in flight at once, as several gateway instances would do.
      const total = 1600;
      {
        let i = 0;
        const t = process.hrtime.bigint();
        await Promise.all(Array.from({ length: 8 }, async () => {
          for (let done = 0; done < total / 8; done += 10) {
            await s.recordOpens(Array.from({ length: 10 }, () => ({
              messageId: ids[i++ % ids.length]!, at: T0 + i, ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0',
            })));
          }
        }));
        const us = Number(process.hrtime.bigint() - t) / 1000 / total;
        lines.push(`batch  10 x 8 concurrent: ${us.toFixed(1)} µs/open, ${Math.round(1e6 / us)} opens/s`);
      }
      console.log(`recordOpens, PostgreSQL (${URL.replace(/\/\/[^@/]*@/, '//')}):\n  ${lines.join('\n  ')}`);
      expect((await s.counts()).events).toBe(200 + 2000 + 3000 + total);
    }, 120_000);
  });
});
