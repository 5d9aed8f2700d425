// The embedded Store adapter (port.ts) over one SQLite file via better-sqlite3, WAL mode.
// Each write method is one IMMEDIATE transaction, so when it returns the commit is in the
// WAL: synchronous=NORMAL survives kill -9 of the process, FULL also a power cut. The server's
// recordOpens appends to the open log file instead (open-log.ts), with the same guarantees.
// Trusts its callers for validation (port rule); checks only uniqueness and existence.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { eventId } from '../../events/model.js';
import {
  KIND_TO_MATCHING, StoreConflict,
  type AccessKey, type ConfigSet, type ConfigSetOptions, type Destination, type DestinationSnapshot,
  type Identity, type NewEvent, type NewMessage, type NotificationJob, type NotificationRow,
  type NotificationState, type OpenInput, type OutboundJob, type OutboundOutcome, type OutboundState, type Page,
  type Store, type StoredEvent, type StoredMessage,
} from '../port.js';
import { boundLimit, decodeToken, encodeToken } from '../paging.js';
import {
  toAccessKey, toConfigSet, toDestination, toEvent, toIdentity,
  toMessage, toNotificationJob, toNotificationRow, toOutboundJob, toOutboundListItem,
} from './rows.js';
import { messageStatus } from '../message-status.js';
import { migrate } from './schema.js';
import { startCheckpointer, SAFETY_NET_WAL_PAGES, type Checkpointer } from './checkpointer.js';
import { lockWriter, logFile, logHasBytesPast, OpenLogWriter, readLogFile } from './open-log.js';
import { prepareStatements, type Statements } from './statements.js';

export interface SqliteStoreOptions {
  file: string;
  /** NORMAL (default) survives a process crash; FULL also survives power loss, at an fsync per commit. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Checkpoint the WAL on a background thread instead of inside this connection's commits
   *  (the server's store; short-lived CLI connections leave it off). */
  backgroundCheckpoints?: boolean;
  /** Append recorded opens to the open log file beside the database (open-log.ts) instead of
   *  committing each batch here. Only the one server process of a data dir sets it; every
   *  store reads the log, so the CLI sees the server's opens. */
  openLog?: boolean;
  /** Log size from which the writer starts a new file once everything in it was taken. */
  openLogRotateBytes?: number;
}

const DEFAULT_OPEN_LOG_ROTATE_BYTES = 64 * 1024 * 1024;

/** Events fanned out per transaction chunk. */
const FANOUT_CHUNK = 256;

/** How long a writer waits for another process (the CLI) holding the write lock. */
const BUSY_TIMEOUT_MS = 5000;

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #synchronous: 'NORMAL' | 'FULL';
  readonly #backgroundCheckpoints: boolean;
  readonly #file: string;
  readonly #wantsLog: boolean;
  readonly #rotateBytes: number;
  #checkpointer: Checkpointer | undefined;
  /** Set when this store writes the open log. */
  #log: OpenLogWriter | undefined;
  /** Releases this process's writer lock on the open log. */
  #unlockLog: (() => void) | undefined;
  /** An ingest reached the end of the log: the next recordOpens may start a new file. */
  #rotateDue = false;
  #s: Statements | undefined;
  /** Built once: db.transaction() makes new wrapper functions on every call. */
  #inTx: Database.Transaction<(fn: () => unknown) => unknown> | undefined;
  /** Last seq of each message whose opens are still in the log or journal (see recordOpens). */
  readonly #journalSeq = new Map<string, number>();

  constructor(opts: SqliteStoreOptions) {
    this.#synchronous = opts.synchronous ?? 'NORMAL';
    if (this.#synchronous !== 'NORMAL' && this.#synchronous !== 'FULL') {
      throw new RangeError(`synchronous must be NORMAL or FULL, got ${String(opts.synchronous)}`);
    }
    this.#backgroundCheckpoints = opts.backgroundCheckpoints ?? false;
    this.#wantsLog = opts.openLog ?? false;
    this.#rotateBytes = opts.openLogRotateBytes ?? DEFAULT_OPEN_LOG_ROTATE_BYTES;
    if (!Number.isInteger(this.#rotateBytes) || this.#rotateBytes < 1) {
      throw new RangeError(`openLogRotateBytes must be a positive integer, got ${String(opts.openLogRotateBytes)}`);
    }
    this.#file = opts.file;
    this.#db = new Database(opts.file, { timeout: BUSY_TIMEOUT_MS });
  }

  get #st(): Statements {
    if (!this.#s) throw new Error('SqliteStore: call init() before use');
    return this.#s;
  }

  async init(): Promise<void> {
    if (this.#s) return;
    // First, before anything starts: a second server on this file is refused here.
    if (this.#wantsLog) this.#unlockLog ??= lockWriter(this.#file);
    const db = this.#db;
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    // WAL needs shared memory beside the file; some network filesystems refuse it.
    if (mode !== 'wal') throw new Error(`SQLite could not switch ${db.name} to WAL mode (got "${String(mode)}")`);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`synchronous = ${this.#synchronous}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
    if (this.#backgroundCheckpoints) {
      db.pragma(`wal_autocheckpoint = ${SAFETY_NET_WAL_PAGES}`);
      this.#checkpointer = startCheckpointer(db.name);
    }
    this.#s = prepareStatements(db);
    this.#inTx = db.transaction((fn: () => unknown) => fn());
    if (this.#wantsLog) this.#openLogWriter();
    // Opens a previous process logged or journaled (and maybe never moved, if it was killed)
    // become events now: this process starts knowing no journal seqs, so none may be left behind.
    this.#catchUp();
    this.#log?.removeOtherGenerations();
  }

  #openLogWriter(): void {
    const s = this.#st;
    const at = s.getOpenLog.get()!;
    let log = OpenLogWriter.open(this.#file, at.generation, at.offset, this.#synchronous === 'FULL');
    if (!log) {
      // The file lost bytes the database already took (power cut before an un-synced write):
      // appending there would put new frames below the read position. Start the next file.
      const generation = at.generation + 1;
      fs.rmSync(logFile(this.#file, generation), { force: true });
      this.#tx(() => s.setOpenLog.run({ generation, offset: 0 }));
      log = OpenLogWriter.open(this.#file, generation, 0, this.#synchronous === 'FULL')!;
    }
    this.#log = log;
  }

  async close(): Promise<void> {
    await this.#log?.close();
    this.#log = undefined;
    this.#unlockLog?.();
    this.#unlockLog = undefined;
    await this.#checkpointer?.stop();
    this.#checkpointer = undefined;
    if (this.#db.open) this.#db.close();
    this.#s = undefined;
    this.#inTx = undefined;
  }

  /** Runs fn in one IMMEDIATE transaction: takes the write lock up front, so a read-then-write
   *  never fails half-way with SQLITE_BUSY when another process writes. */
  #tx<T>(fn: () => T): T {
    if (!this.#inTx) throw new Error('SqliteStore: call init() before use');
    return this.#inTx.immediate(fn) as T;
  }

  // ---- access keys ----

  async createAccessKey(key: AccessKey): Promise<void> {
    try {
      this.#st.insertAccessKey.run({ ...key });
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`access key ${key.id}`);
      throw e;
    }
  }

  async getAccessKey(id: string): Promise<AccessKey | undefined> {
    const r = this.#st.getAccessKey.get(id);
    return r && toAccessKey(r);
  }

  async listAccessKeys(): Promise<AccessKey[]> {
    return this.#st.listAccessKeys.all().map(toAccessKey);
  }

  async revokeAccessKey(id: string, at: number): Promise<boolean> {
    return this.#st.revokeAccessKey.run({ id, at }).changes > 0;
  }

  // ---- identities ----

  async createIdentity(identity: Identity): Promise<void> {
    try {
      this.#st.insertIdentity.run({ name: identity.name, createdAt: identity.createdAt, configSet: identity.configurationSetName });
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`identity ${identity.name}`);
      throw e;
    }
  }

  async getIdentity(name: string): Promise<Identity | undefined> {
    const r = this.#st.getIdentity.get(name);
    return r && toIdentity(r);
  }

  async listIdentities(limit: number, nextToken?: string): Promise<Page<Identity>> {
    return this.#pageByName(this.#st.listIdentities, limit, nextToken, toIdentity);
  }

  async deleteIdentity(name: string): Promise<boolean> {
    return this.#st.deleteIdentity.run(name).changes > 0;
  }

  async setIdentityConfigSet(name: string, configSetName: string | null): Promise<boolean> {
    return this.#st.setIdentityConfigSet.run({ name, configSet: configSetName }).changes > 0;
  }

  /** Keyset paging by name: fetch one extra row to know whether a next page exists. */
  #pageByName<R extends { name: string }, T>(stmt: Statements['listIdentities'] | Statements['listConfigSets'],
    limit: number, nextToken: string | undefined, map: (r: R) => T): Page<T> {
    const n = boundLimit(limit);
    const after = nextToken ? (decodeToken(nextToken, ['string'])[0] as string) : '';
    const rows = stmt.all({ after, limit: n + 1 }) as unknown as R[];
    const more = rows.length > n;
    const items = rows.slice(0, n);
    return { items: items.map(map), nextToken: more ? encodeToken([items[items.length - 1]!.name]) : null };
  }

  // ---- configuration sets ----

  async createConfigSet(set: ConfigSet): Promise<void> {
    try {
      this.#st.insertConfigSet.run({ name: set.name, createdAt: set.createdAt, options: JSON.stringify(set.options ?? {}) });
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`configuration set ${set.name}`);
      throw e;
    }
  }

  async getConfigSet(name: string): Promise<ConfigSet | undefined> {
    const r = this.#st.getConfigSet.get(name);
    return r && toConfigSet(r);
  }

  async listConfigSets(limit: number, nextToken?: string): Promise<Page<ConfigSet>> {
    return this.#pageByName(this.#st.listConfigSets, limit, nextToken, toConfigSet);
  }

  async updateConfigSetOptions(name: string, options: ConfigSetOptions): Promise<boolean> {
    return this.#st.updateConfigSetOptions.run({ name, options: JSON.stringify(options) }).changes > 0;
  }

  async deleteConfigSet(name: string): Promise<boolean> {
    const s = this.#st;
    return this.#tx(() => {
      this.#fanOut(Infinity);
      const gone = s.deleteConfigSet.run(name).changes > 0;
      if (!gone) return false;
      for (const { id } of s.softDeleteSetDestinations.all({ configSet: name, at: Date.now() })) {
        s.killPendingOfDestination.run(id);
      }
      return true;
    });
  }

  // ---- destinations ----

  async createDestination(d: Omit<Destination, 'id'>): Promise<Destination> {
    try {
      const row = this.#st.insertDestination.get({
        configSet: d.configSetName, name: d.name, enabled: d.enabled ? 1 : 0,
        types: JSON.stringify(d.matchingEventTypes), kind: d.kind, settings: JSON.stringify(d.settings),
        disabledReason: d.disabledReason, createdAt: d.createdAt,
      });
      return toDestination(row!);
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`event destination ${d.name} in ${d.configSetName}`);
      throw e;
    }
  }

  async listDestinations(configSetName: string): Promise<Destination[]> {
    return this.#st.listDestinations.all(configSetName).map(toDestination);
  }

  async getDestinationById(id: number): Promise<Destination | undefined> {
    const r = this.#st.getDestinationById.get(id);
    return r && toDestination(r);
  }

  async updateDestination(configSetName: string, name: string,
    patch: Pick<Destination, 'enabled' | 'matchingEventTypes' | 'kind' | 'settings'>): Promise<Destination | undefined> {
    const r = this.#tx(() => {
      this.#fanOut(Infinity);
      return this.#st.updateDestination.get({
        configSet: configSetName, name, enabled: patch.enabled ? 1 : 0,
        types: JSON.stringify(patch.matchingEventTypes), kind: patch.kind, settings: JSON.stringify(patch.settings),
      });
    });
    return r && toDestination(r);
  }

  async deleteDestination(configSetName: string, name: string): Promise<boolean> {
    const s = this.#st;
    return this.#tx(() => {
      this.#fanOut(Infinity);
      const row = s.softDeleteDestination.get({ configSet: configSetName, name, at: Date.now() });
      if (!row) return false;
      s.killPendingOfDestination.run(row.id);
      return true;
    });
  }

  async disableDestination(id: number, reason: string): Promise<void> {
    this.#tx(() => {
      this.#fanOut(Infinity);
      this.#st.disableDestination.run({ id, reason });
    });
  }

  async listAllDestinations(): Promise<Destination[]> {
    return this.#st.listAllDestinations.all().map(toDestination);
  }

  // ---- messages and the outbound queue ----

  async acceptMessage(msg: NewMessage, snapshot: DestinationSnapshot[], events: NewEvent[]): Promise<StoredEvent[]> {
    const s = this.#st;
    return this.#tx(() => {
      try {
        s.insertMessage.run({
          id: msg.id, acceptedAt: msg.acceptedAt, identity: msg.identity, mailFrom: msg.mailFrom,
          configSet: msg.configSetName, recipients: JSON.stringify(msg.recipients), tracked: msg.tracked ? 1 : 0,
          injectOutcome: msg.injectOutcome, mail: JSON.stringify(msg.mail),
          deliveryOptions: JSON.stringify(msg.deliveryOptions ?? {}), size: msg.raw.length,
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new StoreConflict(`message ${msg.id}`);
        throw e;
      }
      s.insertRaw.run(msg.id, msg.raw);
      for (const d of snapshot) {
        for (const type of d.eventTypes) s.insertSnapshot.run(msg.id, type, d.destinationId);
      }
      for (const rcpt of msg.recipients) s.insertOutbound.run(msg.id, rcpt, msg.acceptedAt);
      return this.#append(msg.id, events)!;
    });
  }

  async getMessage(id: string): Promise<StoredMessage | undefined> {
    this.#catchUp();
    const r = this.#st.getMessage.get(id);
    return r && toMessage(r);
  }

  async getMessageRaw(id: string): Promise<Buffer | undefined> {
    return this.#st.getMessageRaw.get(id)?.raw;
  }

  async listMessages(limit: number, nextToken?: string): Promise<Page<StoredMessage>> {
    const s = this.#st;
    this.#catchUp();
    const n = boundLimit(limit);
    let rows;
    if (nextToken) {
      const [at, id] = decodeToken(nextToken, ['number', 'string']);
      rows = s.listMessagesAfter.all({ at, id, limit: n + 1 });
    } else {
      rows = s.listMessagesFirst.all(n + 1);
    }
    const items = rows.slice(0, n);
    const last = items[items.length - 1];
    return { items: items.map(toMessage), nextToken: rows.length > n && last ? encodeToken([last.accepted_at, last.id]) : null };
  }

  async listMessageEvents(id: string): Promise<StoredEvent[]> {
    this.#catchUp();
    return this.#st.listMessageEvents.all(id).map(toEvent);
  }

  async listMessageOutbound(id: string): Promise<{ recipient: string; state: OutboundState; attempts: number; lastError: string | null; nextAttemptAt: number }[]> {
    return this.#st.listMessageOutbound.all(id).map(toOutboundListItem);
  }

  async claimOutbound(now: number, limit: number, leaseMs: number): Promise<OutboundJob[]> {
    const s = this.#st;
    const n = boundLimit(limit);
    return this.#tx(() => {
      const rows = s.selectDueOutbound.all({ now, limit: n });
      const seen = new Set<string>();
      for (const r of rows) {
        s.leaseOutbound.run(now + leaseMs, r.id);
        if (!seen.has(r.message_id)) {
          seen.add(r.message_id);
          s.markMessageSending.run(r.message_id);
        }
      }
      return rows.map(toOutboundJob);
    });
  }

  async completeOutbound(outcomes: OutboundOutcome[]): Promise<void> {
    const s = this.#st;
    this.#tx(() => {
      const touched = new Set<string>();
      for (const o of outcomes) {
        const retry = o.state === 'retry';
        const at = o.at ?? o.events[0]?.at ?? Date.now();
        const row = s.applyOutcome.get({
          id: o.outboundId,
          state: retry ? 'pending' : o.state,
          nextAttemptAt: retry ? (o.nextAttemptAt ?? at) : null,
          failed: retry || o.state === 'bounced' ? 1 : 0,
          at,
          delayEmitted: o.delayEmitted ? 1 : 0,
          setError: o.lastError !== undefined ? 1 : 0,
          lastError: o.lastError ?? null,
        });
        if (!row) continue; // unknown or already final: its outcome was applied once already
        this.#append(row.message_id, o.events);
        touched.add(row.message_id);
      }
      for (const id of touched) s.setMessageStatus.run(messageStatus(s.outboundStatesOf.all(id)), id);
    });
  }

  // ---- events and notifications ----

  async appendEvents(messageId: string, events: NewEvent[]): Promise<StoredEvent[]> {
    const stored = this.#tx(() => this.#append(messageId, events));
    if (!stored) throw new Error(`appendEvents: no message ${messageId}`);
    return stored;
  }

  /** Appends events with the next seqs, then brings the fan-out up to date (so these events'
   *  rows come after every earlier event's, per message order); undefined when no message.
   *  Must run inside a transaction. */
  #append(messageId: string, events: NewEvent[]): StoredEvent[] | undefined {
    this.#drainJournal(); // journaled opens first: their seqs are lower than these
    const last = this.#st.lastSeq.get(messageId);
    if (!last) return undefined;
    let seq = last.seq;
    const stored = events.map((ev) => {
      seq += 1;
      this.#insertEvent(messageId, seq, ev);
      return { ...ev, messageId, seq, eventId: eventId(messageId, seq) };
    });
    this.#fanOut(Infinity);
    return stored;
  }

  #insertEvent(messageId: string, seq: number, ev: NewEvent): void {
    this.#st.insertEvent.run(messageId, seq, ev.kind, ev.at, JSON.stringify(ev.detail));
  }

  /**
   * The pixel hot path: the whole batch is ONE frame appended to the open log (the server,
   * openLog) or ONE journal row committed here (a row per open cost ~2.8x as much CPU per
   * repeat open: schema.ts, migration 2). Each open in it carries its final seq and detail;
   * the next fan-out, which every read of events or notifications runs first, turns the
   * journal and then the log's new frames into Open events and notification rows, so
   * callers of the port cannot tell the difference. Seqs of opens not yet in events are
   * remembered here (#journalSeq): this process is the only one that appends events.
   */
  async recordOpens(opens: OpenInput[]): Promise<(number | null)[]> {
    const s = this.#st;
    const assigned = new Map<string, number>();
    const rows: [string, number, number, string, string][] = [];
    const number = (): (number | null)[] => opens.map((o) => {
      let last = assigned.get(o.messageId) ?? this.#journalSeq.get(o.messageId);
      if (last === undefined) {
        const row = s.lastSeq.get(o.messageId);
        if (!row) return null;
        last = row.seq;
      }
      const seq = last + 1;
      rows.push([o.messageId, seq, o.at, o.ipAddress, o.userAgent]);
      assigned.set(o.messageId, seq);
      return seq;
    });
    let seqs: (number | null)[];
    const log = this.#log;
    if (log) {
      // The server: one frame appended, no SQLite transaction. The reads above need none:
      // this process is the only one that appends events or opens.
      if (this.#rotateDue) this.#rotateLog(log);
      // A message not seen since the last fan-out needs its last seq read: one read
      // transaction for the batch, not a lock per lookup. WAL readers never wait for writers.
      seqs = opens.every((o) => this.#journalSeq.has(o.messageId)) ? number() : this.#inTx!.deferred(number) as (number | null)[];
      if (rows.length > 0) log.append(JSON.stringify(rows));
    } else {
      seqs = this.#tx(() => {
        const result = number();
        if (rows.length > 0) s.insertJournal.run(JSON.stringify(rows));
        return result;
      });
    }
    // Only once the frame is written or the journal row committed: a failed batch must not
    // leave seqs behind. A written frame is taken whatever its fdatasync says: its seqs are used.
    for (const [id, seq] of assigned) this.#journalSeq.set(id, seq);
    await log?.durable();
    return seqs;
  }

  /** Starts the next log file when everything in this one was taken and it has grown large. */
  #rotateLog(log: OpenLogWriter): void {
    if (log.syncing) return; // a caller not behind group commit: try again on the next batch
    this.#rotateDue = false;
    if (log.size < this.#rotateBytes) return;
    const s = this.#st;
    const next = log.prepareNext();
    let moved = false;
    try {
      moved = this.#tx(() => {
        const at = s.getOpenLog.get()!;
        if (at.generation !== log.generation || at.offset !== log.size) return false;
        s.setOpenLog.run({ generation: next.generation, offset: 0 });
        return true;
      });
    } finally {
      if (moved) log.switchTo(next);
      else log.discard(next);
    }
  }

  /** Inside a transaction: frames of the open log past the read position become Open events
   *  and the position moves, in the same commit (so each frame is taken exactly once). */
  #ingestLog(): void {
    const s = this.#st;
    const at = s.getOpenLog.get()!;
    const log = this.#log;
    if (log && at.generation !== log.generation) {
      throw new Error(`open log generation ${at.generation} in the database, ${log.generation} in this writer: the read position names a file this writer never wrote`);
    }
    if (log && at.offset >= log.size) return;
    const { payloads, end } = log ? log.read(at.offset) : readLogFile(this.#file, at.generation, at.offset);
    for (const p of payloads) s.frameToEvents.run(p);
    if (end !== at.offset) s.setOpenLog.run({ generation: at.generation, offset: end });
    if (log && end === log.size) this.#rotateDue = true;
  }

  /** Inside a transaction: journaled opens, then logged ones, become events (in the order they
   *  were written); the journal empties. */
  #drainJournal(): void {
    const s = this.#st;
    if (s.journalToEvents.run().changes > 0) s.clearJournal.run();
    this.#ingestLog();
    this.#journalSeq.clear();
  }

  /**
   * Makes the notification rows of up to `maxEvents` events past the fan-out cursor, in log
   * order, and moves the cursor. Returns how many events it handled (0 = up to date).
   * Every read or change of notification rows runs it first (#catchUp, or inside its tx).
   */
  #fanOutStep(maxEvents = FANOUT_CHUNK): number {
    const head = this.#st.fanOutCursor.get()!;
    if (head.last >= head.head && !head.journal && !this.#logHasMore(head.logGeneration, head.logOffset)) return 0;
    return this.#tx(() => this.#fanOut(maxEvents));
  }

  /** Inside a transaction: fan out events past the cursor (at most maxEvents), move the cursor. */
  #fanOut(maxEvents: number): number {
    const s = this.#st;
    this.#drainJournal();
    let { last } = s.fanOutCursor.get()!;
    let done = 0;
    while (done < maxEvents) {
      const batch = s.eventsAfter.all(last, Math.min(FANOUT_CHUNK, maxEvents - done));
      if (batch.length === 0) break;
      for (const e of batch) {
        s.fanOut.run({ eventRowid: e.id, messageId: e.message_id, at: e.at, type: KIND_TO_MATCHING[e.kind as NewEvent['kind']] });
      }
      last = batch[batch.length - 1]!.id;
      done += batch.length;
    }
    if (done > 0) s.moveFanOutCursor.run(last);
    return done;
  }

  #logHasMore(generation: number, offset: number): boolean {
    const log = this.#log;
    if (log) {
      if (generation !== log.generation || offset < log.size) return true;
      this.#rotateDue = true; // everything was taken (maybe by another process)
      return false;
    }
    return logHasBytesPast(this.#file, generation, offset);
  }

  /** Before reading notification rows outside a write transaction: make every row that exists. */
  #catchUp(): void {
    while (this.#fanOutStep() > 0) { /* bounded chunks, each its own transaction */ }
  }

  async claimNotifications(destinationId: number, now: number, limit: number, leaseMs: number): Promise<NotificationJob[]> {
    const s = this.#st;
    const n = boundLimit(limit);
    return this.#tx(() => {
      this.#fanOut(Infinity); // in the claim's own transaction: no row can be missed
      const rows = s.selectDueNotifications.all({ destinationId, now, limit: n });
      for (const r of rows) s.leaseNotification.run(now + leaseMs, r.id);
      return rows.map(toNotificationJob);
    });
  }

  async markNotificationDelivered(id: number, at: number, status: string): Promise<void> {
    const s = this.#st;
    this.#tx(() => {
      const row = s.markDelivered.get({ id, at, status });
      if (row) s.promote.run({ messageId: row.message_id, destinationId: row.destination_id });
    });
  }

  async markNotificationRetry(id: number, nextAttemptAt: number, status: string): Promise<void> {
    this.#st.markRetry.run({ id, nextAttemptAt, status });
  }

  async markNotificationDead(id: number, _at: number, status: string): Promise<void> {
    const s = this.#st;
    this.#tx(() => {
      const row = s.markDead.get({ id, status });
      if (row) s.promote.run({ messageId: row.message_id, destinationId: row.destination_id });
    });
  }

  async listNotifications(filter: { destinationId?: number; messageId?: string; state?: NotificationState; since?: number; until?: number },
    limit: number): Promise<NotificationRow[]> {
    const s = this.#st;
    this.#catchUp();
    const params = {
      destinationId: filter.destinationId ?? null, messageId: filter.messageId ?? null, state: filter.state ?? null,
      since: filter.since ?? null, until: filter.until ?? null, limit: boundLimit(limit),
    };
    // Pick the statement whose index matches the most selective key given.
    const stmt = filter.messageId !== undefined ? s.listNotificationsByMessage
      : filter.destinationId !== undefined ? s.listNotificationsByDestination : s.listNotificationsAll;
    return stmt.all(params).map(toNotificationRow);
  }

  async replayNotifications(destinationId: number, filter: { since?: number; until?: number; states: NotificationState[] }, now: number): Promise<number> {
    const has = (st: NotificationState) => (filter.states.includes(st) ? 1 : 0);
    this.#catchUp();
    return this.#st.replay.run({
      destinationId, now, since: filter.since ?? null, until: filter.until ?? null,
      dead: has('dead'), delivered: has('delivered'), pending: has('pending'),
    }).changes;
  }

  async nextNotificationDue(destinationId: number): Promise<number | null> {
    this.#catchUp();
    return this.#st.nextNotificationDue.get(destinationId)?.t ?? null;
  }

  async destinationsWithPending(now: number): Promise<number[]> {
    this.#catchUp();
    return this.#st.destinationsWithPending.all(now).map((r) => r.id);
  }

  // ---- metrics/health ----

  async counts(): Promise<Record<string, number>> {
    this.#catchUp();
    return { ...this.#st.counts.get()! };
  }
}
