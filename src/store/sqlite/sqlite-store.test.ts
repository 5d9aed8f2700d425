// Runs the store contract on a real temp-file SQLite database, plus what only SQLite has:
// reopening the file, surviving kill -9 of a writer process, a second process writing the
// same file (the CLI), refusing a newer schema, and a printed recordOpens throughput figure.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { newMessage, runStoreContract } from '../contract.js';
import { killWriterMidStream } from '../crash-writer.js';
import type { Store } from '../port.js';
import { openSqliteStore, SCHEMA_VERSION } from './index.js';

const T0 = 1_700_000_000_000;
const here = path.dirname(fileURLToPath(import.meta.url));

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-sqlite-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

// Both ways opens are written: a SQLite transaction per batch (any store) and the open log
// (the server's store); everything else is the same code.
for (const openLog of [false, true]) {
  runStoreContract(openLog ? 'sqlite, opens to the open log' : 'sqlite', async () => {
    const dir = tempDir();
    const store = openSqliteStore({ file: path.join(dir, 'store.db'), openLog });
    return {
      store,
      async cleanup() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

/** A child process takes the SQLite write lock of file and holds it for ms; resolves once it
 *  holds it. `released` settles when the child has exited. */
async function holdWriteLock(file: string, ms: number): Promise<{ released: Promise<unknown> }> {
  const holder = spawn(process.execPath, ['-e', `
    const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
    const db = new D(${JSON.stringify(file)}, { timeout: 5000 });
    db.exec('BEGIN IMMEDIATE'); db.prepare("UPDATE messages SET status = status").run();
    process.stdout.write('locked\\n');
    const until = Date.now() + ${ms}; while (Date.now() < until) {}
    db.exec('COMMIT'); db.close();`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  return { released: exited };
}

/** A set with one OPEN+SEND webhook and one accepted message m1 (Send event seq 1). */
async function seed(store: Store): Promise<number> {
  await store.createConfigSet({ name: 'set1', createdAt: T0, options: {} });
  const d = await store.createDestination({
    configSetName: 'set1', name: 'hook', enabled: true, matchingEventTypes: ['OPEN', 'SEND'], kind: 'webhook',
    settings: { Url: 'https://hooks.example/x' }, disabledReason: null, createdAt: T0,
  });
  await store.acceptMessage(newMessage('m1'), [{ destinationId: d.id, eventTypes: d.matchingEventTypes }],
    [{ kind: 'Send', at: T0, detail: {} }]);
  return d.id;
}

describe('SqliteStore specifics', () => {
  it('commits a batch of opens as one journal row; its event and notification rows follow, also after a crash-like reopen', async () => {
    const file = path.join(tempDir(), 'store.db');
    const a = openSqliteStore({ file });
    await a.init();
    const dest = await seed(a);
    expect(await a.recordOpens([{ messageId: 'm1', at: T0 + 1, ipAddress: '192.0.2.7', userAgent: 'ua' }])).toEqual([2]);
    // The hot path wrote a journal row, no event and no notification row yet (raw look, beside the port).
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT opens FROM open_journal').all()).toEqual([{ opens: JSON.stringify([['m1', 2, T0 + 1, '192.0.2.7', 'ua']]) }]);
    expect(raw.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'Open'").get()).toEqual({ n: 0 });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM notifications').get()).toEqual({ n: 1 }); // the Send's
    raw.close();
    // Drop the process's view without any read (as a kill -9 would), reopen: the log is enough.
    await a.close();
    const b = openSqliteStore({ file });
    await b.init();
    // The new process's first open continues the seq past the journaled one.
    expect(await b.recordOpens([{ messageId: 'm1', at: T0 + 2, ipAddress: '192.0.2.7', userAgent: 'ua' }])).toEqual([3]);
    const rows = await b.listNotifications({ messageId: 'm1' }, 10);
    expect(rows.map((r) => [r.eventId, r.kind, r.destinationId, r.state])).toEqual([
      ['m1:1', 'Send', dest, 'pending'], ['m1:2', 'Open', dest, 'pending'], ['m1:3', 'Open', dest, 'pending'],
    ]);
    // Per-message order holds: only the Send is claimable until it is done.
    expect((await b.claimNotifications(dest, T0 + 10, 10, 1000)).map((j) => j.event.eventId)).toEqual(['m1:1']);
    await b.close();
  });

  it('upgrades a version-1 file: opens in its one-row-per-open journal become events, in order', async () => {
    const file = path.join(tempDir(), 'store.db');
    const a = openSqliteStore({ file });
    await a.init();
    const dest = await seed(a);
    await a.close();
    // Put the file back to schema 1 as a previous build left it: two opens still journaled.
    const raw = new Database(file);
    raw.exec(`DROP TABLE open_journal; DROP TABLE open_log;
      CREATE TABLE open_journal (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, detail TEXT NOT NULL);
      UPDATE schema_version SET version = 1;`);
    const ins = raw.prepare('INSERT INTO open_journal (message_id, seq, at, detail) VALUES (?, ?, ?, ?)');
    for (const seq of [2, 3]) ins.run('m1', seq, T0 + seq, JSON.stringify({ ipAddress: '::1', timestamp: new Date(T0 + seq).toISOString(), userAgent: `old ${seq}` }));
    raw.close();

    const b = openSqliteStore({ file });
    await b.init();
    const evs = await b.listMessageEvents('m1');
    expect(evs.map((e) => [e.eventId, e.kind, e.detail.userAgent])).toEqual([['m1:1', 'Send', undefined], ['m1:2', 'Open', 'old 2'], ['m1:3', 'Open', 'old 3']]);
    expect(await b.recordOpens([{ messageId: 'm1', at: T0 + 9, ipAddress: '::1', userAgent: 'new' }])).toEqual([4]);
    expect((await b.listNotifications({ destinationId: dest }, 10)).map((n) => n.eventId)).toEqual(['m1:1', 'm1:2', 'm1:3', 'm1:4']);
    await b.close();
    const after = new Database(file, { readonly: true });
    expect(after.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    after.close();
  });

  it('checkpoints the WAL on a background thread', async () => {
    const file = path.join(tempDir(), 'store.db');
    const store = openSqliteStore({ file, backgroundCheckpoints: true });
    await store.init();
    await seed(store);
    const before = fs.statSync(file).size;
    for (let i = 0; i < 20; i++) {
      await store.recordOpens(Array.from({ length: 100 }, (_, k) => ({ messageId: 'm1', at: T0 + i * 100 + k, ipAddress: '::1', userAgent: 'x'.repeat(200) })));
    }
    // No commit from here on: only the checkpointer can move pages into the main file.
    const grown = await new Promise<number>((resolve) => {
      const end = Date.now() + 5000;
      const poll = () => {
        const size = fs.statSync(file).size;
        if (size > before || Date.now() > end) resolve(size);
        else setTimeout(poll, 50);
      };
      poll();
    });
    expect(grown).toBeGreaterThan(before);
    await store.close();
  });

  it('close() with the checkpoint thread finishes in a process with nothing else to wait for', async () => {
    // The thread is unref'd so it never keeps a process alive; stopping it must still be
    // waited for, or a process whose last work is close() exits before the store is closed.
    const file = path.join(tempDir(), 'store.db');
    const script = `const { openSqliteStore } = await import(${JSON.stringify(path.join(here, 'index.ts'))});
      const store = openSqliteStore({ file: ${JSON.stringify(file)}, backgroundCheckpoints: true });
      await store.init();
      await store.close();
      process.stdout.write('closed');`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => { text += c.toString(); });
      child.on('error', reject);
      child.on('exit', () => resolve(text));
    });
    expect(out).toBe('closed');
  });

  it('keeps everything across close and reopen', async () => {
    const file = path.join(tempDir(), 'store.db');
    const a = openSqliteStore({ file, synchronous: 'FULL' });
    await a.init();
    const destId = await seed(a);
    await a.createIdentity({ name: 'example.com', createdAt: T0, configurationSetName: 'set1' });
    await a.createAccessKey({ id: 'AKID', secret: 'x', name: 'n', createdAt: T0, revokedAt: null });
    expect(await a.recordOpens([{ messageId: 'm1', at: T0 + 1, ipAddress: '::1', userAgent: 'u' }])).toEqual([2]);
    await a.close();
    await a.close(); // idempotent

    const b = openSqliteStore({ file });
    await b.init();
    expect((await b.getIdentity('example.com'))!.configurationSetName).toBe('set1');
    expect(await b.getAccessKey('AKID')).toBeDefined();
    expect((await b.getMessage('m1'))!.openCount).toBe(1);
    expect((await b.getMessageRaw('m1'))!.equals(newMessage('m1').raw)).toBe(true);
    expect((await b.listNotifications({ destinationId: destId }, 10)).map((n) => n.eventId)).toEqual(['m1:1', 'm1:2']);
    // seq continues after reopen
    expect(await b.recordOpens([{ messageId: 'm1', at: T0 + 2, ipAddress: '::1', userAgent: 'u' }])).toEqual([3]);
    await b.close();

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    raw.close();
  });

  it('refuses a database written by a newer schema, and use before init', async () => {
    const file = path.join(tempDir(), 'store.db');
    const a = openSqliteStore({ file });
    await expect(a.getIdentity('x')).rejects.toThrow(/init\(\)/);
    await a.init();
    await a.close();
    const raw = new Database(file);
    raw.prepare('UPDATE schema_version SET version = 999').run();
    raw.close();
    const b = openSqliteStore({ file });
    await expect(b.init()).rejects.toThrow(/newer than this build/);
    await b.close();
    expect(() => openSqliteStore({ file, synchronous: 'OFF' as never })).toThrow(/NORMAL or FULL/);
  });

  it.each(['sqlite', 'sqlite-log'])('loses no reported open when the writing process is killed with SIGKILL (%s)', async (mode) => {
    const file = path.join(tempDir(), 'store.db');
    const setup = openSqliteStore({ file });
    await setup.init();
    const destId = await seed(setup);
    await setup.close();

    // Kill mid-stream, while the child is busy writing the next batches.
    const { reported, ended } = await killWriterMidStream([mode, file, 'm1', '7'], 700, 20_000);
    expect(ended).toBe('SIGKILL');

    // In the log mode the restarted store writes the log again: the killed writer's lock is gone.
    const after = openSqliteStore({ file, openLog: mode === 'sqlite-log' });
    await after.init();
    const msg = await after.getMessage('m1');
    expect(reported).toBeGreaterThanOrEqual(700);
    expect(msg!.openCount).toBeGreaterThanOrEqual(reported);
    // No half-written batch: counter, events and notification rows agree, in whole batches of 7.
    expect(msg!.openCount % 7).toBe(0);
    const events = await after.listMessageEvents('m1');
    expect(events.filter((e) => e.kind === 'Open')).toHaveLength(msg!.openCount);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect((await after.counts()).notificationsPending).toBe(msg!.openCount + 1);
    expect(destId).toBeGreaterThan(0);
    await after.close();
  });

  it('shares the file with a second connection (the CLI) that holds the write lock for a while', async () => {
    const file = path.join(tempDir(), 'store.db');
    const server = openSqliteStore({ file });
    await server.init();
    await seed(server);
    const cli = new Database(file, { timeout: 5000 });
    cli.pragma('journal_mode = WAL');
    // Hold the write lock from a child process for ~300 ms; the server's write must wait, not fail.
    const { released } = await holdWriteLock(file, 300);
    const started = Date.now();
    expect(await server.recordOpens([{ messageId: 'm1', at: T0 + 5, ipAddress: '::1', userAgent: 'u' }])).toEqual([2]);
    const waited = Date.now() - started;
    await released;
    expect(waited).toBeGreaterThan(50);
    // and the CLI connection sees the server's commit
    expect(cli.prepare("SELECT COUNT(*) AS opens FROM open_journal, json_each(opens) o WHERE o.value ->> 0 = ?").get('m1')).toEqual({ opens: 1 });
    cli.close();
    await server.close();
  });

  it('a flood of opens on one message does not slow claiming the other messages (printed)', async () => {
    const file = path.join(tempDir(), 'store.db');
    const store = openSqliteStore({ file });
    await store.init();
    await store.createConfigSet({ name: 'set1', createdAt: T0, options: {} });
    const d = await store.createDestination({ configSetName: 'set1', name: 'hook', enabled: true, matchingEventTypes: ['SEND', 'OPEN'],
      kind: 'webhook', settings: {}, disabledReason: null, createdAt: T0 });
    const snap = [{ destinationId: d.id, eventTypes: d.matchingEventTypes }];
    await store.acceptMessage(newMessage('flood'), snap, [{ kind: 'Send', at: T0, detail: {} }]);
    const flood = 20_000;
    for (let i = 0; i < flood; i += 1000) {
      await store.recordOpens(Array.from({ length: 1000 }, (_, k) => ({ messageId: 'flood', at: T0 + 1 + i + k, ipAddress: '::1', userAgent: 'bot' })));
    }
    for (let i = 0; i < 10; i++) await store.acceptMessage(newMessage(`m${i}`, { acceptedAt: T0 + 50_000 }), snap, [{ kind: 'Send', at: T0 + 50_000, detail: {} }]);
    const now = T0 + 100_000;
    const [head] = await store.claimNotifications(d.id, now, 1, 60_000);
    expect(head!.event.eventId).toBe('flood:1');
    const t = process.hrtime.bigint();
    const others = await store.claimNotifications(d.id, now, 100, 60_000);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    expect(others.map((j) => j.event.messageId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    // The flood still drains in order once its head is done.
    await store.markNotificationDelivered(head!.id, now, '200');
    const next = await store.claimNotifications(d.id, now, 100, 60_000);
    expect(next.map((j) => j.event.eventId)).toEqual(['flood:2']);
    console.log(`claimNotifications past ${flood} queued opens of one message (head in flight): ${ms.toFixed(2)} ms`);
    await store.close();
  });

  it('measures recordOpens throughput (printed, not asserted)', async () => {
    const file = path.join(tempDir(), 'store.db');
    const store = openSqliteStore({ file });
    await store.init();
    await store.createConfigSet({ name: 'set1', createdAt: T0, options: {} });
    const dests = [];
    for (const n of ['a', 'b']) {
      dests.push(await store.createDestination({ configSetName: 'set1', name: n, enabled: true, matchingEventTypes: ['OPEN'],
        kind: 'webhook', settings: {}, disabledReason: null, createdAt: T0 }));
    }
    const ids = Array.from({ length: 200 }, (_, i) => `bench-${i}`);
    for (const id of ids) {
      await store.acceptMessage(newMessage(id), dests.map((d) => ({ destinationId: d.id, eventTypes: d.matchingEventTypes })), []);
    }
    const lines: string[] = [];
    for (const batch of [1, 10, 100]) {
      const total = 5000;
      let i = 0;
      const cpu = process.cpuUsage();
      const t = process.hrtime.bigint();
      for (let done = 0; done < total; done += batch) {
        await store.recordOpens(Array.from({ length: batch }, () => ({
          messageId: ids[i++ % ids.length]!, at: T0 + i, ipAddress: '203.0.113.9', userAgent: 'Mozilla/5.0',
        })));
      }
      const us = Number(process.hrtime.bigint() - t) / 1000 / total;
      const used = process.cpuUsage(cpu);
      const cpuUs = (used.user + used.system) / total;
      // CPU time is printed too: on a loaded machine wall time mostly measures the neighbours.
      lines.push(`batch ${String(batch).padStart(3)}: ${us.toFixed(1)} µs/open wall (${Math.round(1e6 / us)} opens/s), ${cpuUs.toFixed(1)} µs/open CPU`);
    }
    console.log(`recordOpens, SQLite synchronous=NORMAL, 2 OPEN destinations per message:\n  ${lines.join('\n  ')}`);
    expect((await store.counts()).events).toBe(15_000);
    await store.close();
  });
});

describe('SqliteStore with the open log (the server\'s store)', () => {
  const open = (at: number) => ({ messageId: 'm1', at, ipAddress: '192.0.2.7', userAgent: `ua ${at}` });
  /** The server's store (writing the open log) on file, initialised and seeded. */
  const seededWriter = async (file: string, openLogRotateBytes?: number) => {
    const store = openSqliteStore({ file, openLog: true, openLogRotateBytes });
    await store.init();
    return { store, dest: await seed(store) };
  };
  const rawRow = (file: string, sql: string): unknown => {
    const raw = new Database(file, { readonly: true });
    try {
      return raw.prepare(sql).get();
    } finally {
      raw.close();
    }
  };

  it('appends a batch to the file, not to SQLite; any process\'s store takes it exactly once', async () => {
    const file = path.join(tempDir(), 'store.db');
    const { store: server, dest } = await seededWriter(file);
    expect(await server.recordOpens([open(T0 + 1), open(T0 + 2)])).toEqual([2, 3]);
    expect(fs.statSync(`${file}-opens-1`).size).toBeGreaterThan(0);
    expect(rawRow(file, 'SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM open_journal) AS journal'))
      .toEqual({ events: 1, journal: 0 });

    // The CLI's store (no openLog) reads the file: it sees the opens and moves the read position.
    const cli = openSqliteStore({ file });
    await cli.init();
    expect((await cli.getMessage('m1'))!.openCount).toBe(2);
    expect((await cli.listMessageEvents('m1')).map((e) => [e.eventId, e.detail.userAgent]))
      .toEqual([['m1:1', undefined], ['m1:2', `ua ${T0 + 1}`], ['m1:3', `ua ${T0 + 2}`]]);
    // The server goes on: nothing taken twice, seqs continue.
    expect(await server.recordOpens([open(T0 + 3)])).toEqual([4]);
    expect((await server.listNotifications({ destinationId: dest }, 10)).map((n) => n.eventId)).toEqual(['m1:1', 'm1:2', 'm1:3', 'm1:4']);
    expect((await cli.counts()).events).toBe(4);
    expect(rawRow(file, 'SELECT offset FROM open_log')).toEqual({ offset: fs.statSync(`${file}-opens-1`).size });
    await cli.close();
    await server.close();
  });

  it('refuses a second writer of the same file until the first one closes', async () => {
    const file = path.join(tempDir(), 'store.db');
    const { store: a } = await seededWriter(file);
    const b = openSqliteStore({ file, openLog: true });
    await expect(b.init()).rejects.toThrow(/another process is already writing the open log .*one mailbeacon server per data directory/);
    await b.close();
    // Readers (the CLI) are not writers: they open alongside.
    const cli = openSqliteStore({ file });
    await cli.init();
    expect((await cli.getMessage('m1'))!.openCount).toBe(0);
    await cli.close();
    expect(await a.recordOpens([open(T0 + 1)])).toEqual([2]);
    await a.close();
    const c = openSqliteStore({ file, openLog: true });
    await c.init();
    expect((await c.getMessage('m1'))!.openCount).toBe(1);
    await c.close();
  });

  it('restarts over a torn tail: cuts it, keeps every whole batch, appends after them', async () => {
    const file = path.join(tempDir(), 'store.db');
    const { store: a } = await seededWriter(file);
    await a.recordOpens([open(T0 + 1)]);
    await a.recordOpens([open(T0 + 2), open(T0 + 3)]);
    await a.close();
    const log = `${file}-opens-1`;
    const whole = fs.statSync(log).size;
    fs.appendFileSync(log, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 0x5b])); // a killed write: header, 1 byte

    const b = openSqliteStore({ file, openLog: true });
    await b.init();
    expect(fs.statSync(log).size).toBe(whole);
    expect(await b.recordOpens([open(T0 + 4)])).toEqual([5]);
    expect((await b.listMessageEvents('m1')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    await b.close();
  });

  it('starts a new file when the old one lost bytes SQLite already took, losing nothing taken', async () => {
    const file = path.join(tempDir(), 'store.db');
    const { store: a } = await seededWriter(file);
    await a.recordOpens([open(T0 + 1)]);
    expect((await a.getMessage('m1'))!.openCount).toBe(1); // taken into SQLite
    await a.close();
    fs.truncateSync(`${file}-opens-1`, 0); // a power cut before the write reached the disk

    const b = openSqliteStore({ file, openLog: true });
    await b.init();
    expect(rawRow(file, 'SELECT generation, offset FROM open_log')).toEqual({ generation: 2, offset: 0 });
    expect(fs.existsSync(`${file}-opens-1`)).toBe(false);
    expect(await b.recordOpens([open(T0 + 2)])).toEqual([3]);
    expect((await b.listMessageEvents('m1')).map((e) => e.seq)).toEqual([1, 2, 3]);
    await b.close();
  });

  it('rotates to a new file once everything in the old one was taken; readers follow', async () => {
    const file = path.join(tempDir(), 'store.db');
    const { store: server } = await seededWriter(file, 1);
    const cli = openSqliteStore({ file });
    await cli.init();
    await server.recordOpens([open(T0 + 1)]);
    // Not yet taken: the next batch stays in the same file.
    await server.recordOpens([open(T0 + 2)]);
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.includes('-opens-'))).toEqual(['store.db-opens-1']);
    expect((await cli.getMessage('m1'))!.openCount).toBe(2); // the CLI takes them
    await server.counts(); // the server's own fan-out sees it is at the end
    await server.recordOpens([open(T0 + 3)]);
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.includes('-opens-'))).toEqual(['store.db-opens-2']);
    expect(rawRow(file, 'SELECT generation FROM open_log')).toEqual({ generation: 2 });
    expect((await cli.listMessageEvents('m1')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await server.recordOpens([open(T0 + 4)]);
    expect((await server.listMessageEvents('m1')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    await cli.close();
    await server.close();
  });

  it('records opens while another process holds the SQLite write lock, without waiting for it', async () => {
    const file = path.join(tempDir(), 'store.db');
    const { store: server } = await seededWriter(file);
    await server.recordOpens([open(T0 + 1)]); // m1's seq is known from here on
    const { released } = await holdWriteLock(file, 1000);
    expect(await server.recordOpens([open(T0 + 2)])).toEqual([3]);
    // The lock is still held: recordOpens did not wait for it to be released.
    const probe = new Database(file, { timeout: 0 });
    expect(() => probe.exec('BEGIN IMMEDIATE')).toThrow(/locked|busy/i);
    probe.close();
    await released;
    expect((await server.getMessage('m1'))!.openCount).toBe(2);
    await server.close();
  });

  it.skipIf(!fs.existsSync('/dev/full'))('a batch whose append fails is refused and leaves nothing behind', async () => {
    const file = path.join(tempDir(), 'store.db');
    const setup = openSqliteStore({ file });
    await setup.init();
    await seed(setup);
    await setup.close();
    fs.symlinkSync('/dev/full', `${file}-opens-1`); // every write fails with ENOSPC
    const server = openSqliteStore({ file, openLog: true });
    await server.init();
    await expect(server.recordOpens([open(T0 + 1)])).rejects.toThrow(/ENOSPC/);
    expect((await server.getMessage('m1'))!.openCount).toBe(0);
    expect(await server.listMessageEvents('m1')).toHaveLength(1);
    await server.close();
  });
});
