// The scale-out Store adapter (port.ts) over PostgreSQL via pg, shared by several stateless
// gateway instances. Same tables and semantics as the SQLite adapter; a method that returns has
// committed. Concurrency rules (see sql.ts): claims use SKIP LOCKED, seq/open counters are bumped
// by one UPDATE ... RETURNING, multi-message writes lock rows in id order; a transaction the
// server aborts as a deadlock or serialization failure is re-run whole. Trusts callers for
// validation (port rule); checks only uniqueness and existence.
import type pg from 'pg';
import { eventId, rfc3339 } from '../../events/model.js';
import {
  KIND_TO_MATCHING, StoreConflict,
  type AccessKey, type ConfigSet, type ConfigSetOptions, type Destination, type DestinationSnapshot,
  type Identity, type NewEvent, type NewMessage, type NotificationJob, type NotificationRow,
  type NotificationState, type OpenInput, type OutboundJob, type OutboundOutcome, type OutboundState, type Page,
  type Store, type StoredEvent, type StoredMessage,
} from '../port.js';
import { createPool } from './pool.js';
import { changes, inTransaction, isUniqueViolation, rows } from './query.js';
import { boundLimit, decodeToken, encodeToken } from '../paging.js';
import { messageStatus } from '../message-status.js';
import {
  toAccessKey, toConfigSet, toDestination, toEvent, toIdentity,
  toMessage, toNotificationRow, toOutboundJob, toOutboundListItem,
  type AccessKeyRow, type ClaimNotificationRow, type ClaimOutboundRow, type ConfigSetRow, type DestinationRow,
  type EventRow, type IdentityRow, type MessageRow, type NotificationListRow, type OutboundListRow,
} from './rows.js';
import { checkSchemaName, migrate } from './schema.js';
import { NOTIFICATION_LIST_SELECT, SQL, type Named } from './sql.js';


export interface PostgresStoreOptions {
  /** postgres://user:pass@host:port/db — never logged. */
  connectionString: string;
  /** Schema holding the tables; default 'mailbeacon'. Lower-case identifier. */
  schema?: string;
  /** Connections per instance; default 10. */
  poolSize?: number;
  /** Errors of idle pooled connections (server restart); default: ignored, the next call fails. */
  onError?: (e: Error) => void;
}

export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #schema: string;
  #ready = false;

  constructor(opts: PostgresStoreOptions) {
    if (!opts.connectionString) throw new RangeError('postgres connectionString is required');
    this.#schema = checkSchemaName(opts.schema ?? 'mailbeacon');
    const poolSize = opts.poolSize ?? 10;
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError(`poolSize must be a positive integer, got ${poolSize}`);
    this.#pool = createPool({
      connectionString: opts.connectionString, schema: this.#schema, poolSize,
      onError: opts.onError ?? (() => undefined),
    });
  }

  get schema(): string { return this.#schema; }

  async init(): Promise<void> {
    if (this.#ready) return;
    const client = await this.#pool.connect();
    try {
      await migrate(client, this.#schema);
    } finally {
      client.release();
    }
    this.#ready = true;
  }

  async close(): Promise<void> {
    this.#ready = false;
    if (!this.#pool.ended) await this.#pool.end();
  }

  get #db(): pg.Pool {
    if (!this.#ready) throw new Error('PostgresStore: call init() before use');
    return this.#pool;
  }

  /** One transaction on one pooled connection, re-run whole on deadlock/serialization aborts. */
  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#db, fn);
  }

  // ---- access keys ----

  async createAccessKey(key: AccessKey): Promise<void> {
    try {
      await changes(this.#db, SQL.insertAccessKey, [key.id, key.secret, key.name, key.createdAt, key.revokedAt]);
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`access key ${key.id}`);
      throw e;
    }
  }

  async getAccessKey(id: string): Promise<AccessKey | undefined> {
    const [r] = await rows<AccessKeyRow>(this.#db, SQL.getAccessKey, [id]);
    return r && toAccessKey(r);
  }

  async listAccessKeys(): Promise<AccessKey[]> {
    return (await rows<AccessKeyRow>(this.#db, SQL.listAccessKeys)).map(toAccessKey);
  }

  async revokeAccessKey(id: string, at: number): Promise<boolean> {
    return (await changes(this.#db, SQL.revokeAccessKey, [id, at])) > 0;
  }

  // ---- identities ----

  async createIdentity(identity: Identity): Promise<void> {
    try {
      await changes(this.#db, SQL.insertIdentity, [identity.name, identity.createdAt, identity.configurationSetName]);
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`identity ${identity.name}`);
      throw e;
    }
  }

  async getIdentity(name: string): Promise<Identity | undefined> {
    const [r] = await rows<IdentityRow>(this.#db, SQL.getIdentity, [name]);
    return r && toIdentity(r);
  }

  async listIdentities(limit: number, nextToken?: string): Promise<Page<Identity>> {
    return this.#pageByName<IdentityRow, Identity>(SQL.listIdentities, limit, nextToken, toIdentity);
  }

  async deleteIdentity(name: string): Promise<boolean> {
    return (await changes(this.#db, SQL.deleteIdentity, [name])) > 0;
  }

  async setIdentityConfigSet(name: string, configSetName: string | null): Promise<boolean> {
    return (await changes(this.#db, SQL.setIdentityConfigSet, [name, configSetName])) > 0;
  }

  /** Keyset paging by name: fetch one extra row to know whether a next page exists. */
  async #pageByName<R extends { name: string }, T>(stmt: Named, limit: number, nextToken: string | undefined,
    map: (r: R) => T): Promise<Page<T>> {
    const n = boundLimit(limit);
    const after = nextToken ? (decodeToken(nextToken, ['string'])[0] as string) : '';
    const found = await rows<R>(this.#db, stmt, [after, n + 1]);
    const items = found.slice(0, n);
    return { items: items.map(map), nextToken: found.length > n ? encodeToken([items[items.length - 1]!.name]) : null };
  }

  // ---- configuration sets ----

  async createConfigSet(set: ConfigSet): Promise<void> {
    try {
      await changes(this.#db, SQL.insertConfigSet, [set.name, set.createdAt, JSON.stringify(set.options ?? {})]);
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`configuration set ${set.name}`);
      throw e;
    }
  }

  async getConfigSet(name: string): Promise<ConfigSet | undefined> {
    const [r] = await rows<ConfigSetRow>(this.#db, SQL.getConfigSet, [name]);
    return r && toConfigSet(r);
  }

  async listConfigSets(limit: number, nextToken?: string): Promise<Page<ConfigSet>> {
    return this.#pageByName<ConfigSetRow, ConfigSet>(SQL.listConfigSets, limit, nextToken, toConfigSet);
  }

  async updateConfigSetOptions(name: string, options: ConfigSetOptions): Promise<boolean> {
    return (await changes(this.#db, SQL.updateConfigSetOptions, [name, JSON.stringify(options)])) > 0;
  }

  async deleteConfigSet(name: string): Promise<boolean> {
    return this.#tx(async (c) => {
      if ((await changes(c, SQL.deleteConfigSet, [name])) === 0) return false;
      const gone = await rows<{ id: number }>(c, SQL.softDeleteSetDestinations, [name, Date.now()]);
      if (gone.length > 0) await changes(c, SQL.killPendingOfDestinations, [gone.map((d) => d.id)]);
      return true;
    });
  }

  // ---- destinations ----

  async createDestination(d: Omit<Destination, 'id'>): Promise<Destination> {
    try {
      const [r] = await rows<DestinationRow>(this.#db, SQL.insertDestination, [
        d.configSetName, d.name, d.enabled, JSON.stringify(d.matchingEventTypes), d.kind, JSON.stringify(d.settings),
        d.disabledReason, d.createdAt,
      ]);
      return toDestination(r!);
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreConflict(`event destination ${d.name} in ${d.configSetName}`);
      throw e;
    }
  }

  async listDestinations(configSetName: string): Promise<Destination[]> {
    return (await rows<DestinationRow>(this.#db, SQL.listDestinations, [configSetName])).map(toDestination);
  }

  async getDestinationById(id: number): Promise<Destination | undefined> {
    const [r] = await rows<DestinationRow>(this.#db, SQL.getDestinationById, [id]);
    return r && toDestination(r);
  }

  async updateDestination(configSetName: string, name: string,
    patch: Pick<Destination, 'enabled' | 'matchingEventTypes' | 'kind' | 'settings'>): Promise<Destination | undefined> {
    const [r] = await rows<DestinationRow>(this.#db, SQL.updateDestination, [
      configSetName, name, patch.enabled, JSON.stringify(patch.matchingEventTypes), patch.kind, JSON.stringify(patch.settings),
    ]);
    return r && toDestination(r);
  }

  async deleteDestination(configSetName: string, name: string): Promise<boolean> {
    return this.#tx(async (c) => {
      const [row] = await rows<{ id: number }>(c, SQL.softDeleteDestination, [configSetName, name, Date.now()]);
      if (!row) return false;
      await changes(c, SQL.killPendingOfDestinations, [[row.id]]);
      return true;
    });
  }

  async disableDestination(id: number, reason: string): Promise<void> {
    await changes(this.#db, SQL.disableDestination, [id, reason]);
  }

  async listAllDestinations(): Promise<Destination[]> {
    return (await rows<DestinationRow>(this.#db, SQL.listAllDestinations)).map(toDestination);
  }

  // ---- messages and the outbound queue ----

  async acceptMessage(msg: NewMessage, snapshot: DestinationSnapshot[], events: NewEvent[]): Promise<StoredEvent[]> {
    return this.#tx(async (c) => {
      try {
        await changes(c, SQL.insertMessage, [
          msg.id, msg.acceptedAt, msg.identity, msg.mailFrom, msg.configSetName, JSON.stringify(msg.recipients),
          msg.tracked, msg.injectOutcome, JSON.stringify(msg.mail), JSON.stringify(msg.deliveryOptions ?? {}), msg.raw.length,
        ]);
      } catch (e) {
        if (isUniqueViolation(e)) throw new StoreConflict(`message ${msg.id}`);
        throw e;
      }
      await changes(c, SQL.insertRaw, [msg.id, msg.raw]);
      const types = snapshot.flatMap((d) => d.eventTypes.map((t) => [t, d.destinationId] as const));
      if (types.length > 0) await changes(c, SQL.insertSnapshot, [msg.id, types.map((t) => t[0]), types.map((t) => t[1])]);
      if (msg.recipients.length > 0) await changes(c, SQL.insertOutbound, [msg.id, msg.recipients, msg.acceptedAt]);
      return (await this.#append(c, msg.id, events))!;
    });
  }

  async getMessage(id: string): Promise<StoredMessage | undefined> {
    const [r] = await rows<MessageRow>(this.#db, SQL.getMessage, [id]);
    return r && toMessage(r);
  }

  async getMessageRaw(id: string): Promise<Buffer | undefined> {
    const [r] = await rows<{ raw: Buffer }>(this.#db, SQL.getMessageRaw, [id]);
    return r?.raw;
  }

  async listMessages(limit: number, nextToken?: string): Promise<Page<StoredMessage>> {
    const n = boundLimit(limit);
    let found: MessageRow[];
    if (nextToken) {
      const [at, id] = decodeToken(nextToken, ['number', 'string']);
      found = await rows<MessageRow>(this.#db, SQL.listMessagesAfter, [at, id, n + 1]);
    } else {
      found = await rows<MessageRow>(this.#db, SQL.listMessagesFirst, [n + 1]);
    }
    const items = found.slice(0, n);
    const last = items[items.length - 1];
    return { items: items.map(toMessage), nextToken: found.length > n && last ? encodeToken([last.accepted_at, last.id]) : null };
  }

  async listMessageEvents(id: string): Promise<StoredEvent[]> {
    return (await rows<EventRow>(this.#db, SQL.listMessageEvents, [id])).map(toEvent);
  }

  async listMessageOutbound(id: string): Promise<{ recipient: string; state: OutboundState; attempts: number; lastError: string | null; nextAttemptAt: number }[]> {
    return (await rows<OutboundListRow>(this.#db, SQL.listMessageOutbound, [id])).map(toOutboundListItem);
  }

  async claimOutbound(now: number, limit: number, leaseMs: number): Promise<OutboundJob[]> {
    const n = boundLimit(limit);
    // One statement = one implicit transaction: pick, lease and mark 'sending' together.
    return this.#tx(async (c) => (await rows<ClaimOutboundRow>(c, SQL.claimOutbound, [now, n, now + leaseMs])).map(toOutboundJob));
  }

  async completeOutbound(outcomes: OutboundOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.#tx(async (c) => {
      await rows(c, SQL.lockMessagesOfOutbound, [outcomes.map((o) => o.outboundId)]);
      const touched = new Set<string>();
      for (const o of outcomes) {
        const retry = o.state === 'retry';
        const at = o.at ?? o.events[0]?.at ?? Date.now();
        const [row] = await rows<{ message_id: string }>(c, SQL.applyOutcome, [
          o.outboundId, retry ? 'pending' : o.state, retry ? (o.nextAttemptAt ?? at) : null,
          retry || o.state === 'bounced', at, o.delayEmitted === true,
          o.lastError !== undefined, o.lastError ?? null,
        ]);
        if (!row) continue; // unknown or already final: its outcome was applied once already
        await this.#append(c, row.message_id, o.events);
        touched.add(row.message_id);
      }
      if (touched.size === 0) return;
      const states = await rows<{ message_id: string; state: string; first_failure_at: number | null; attempts: number }>(
        c, SQL.outboundStatesOf, [[...touched]]);
      const ids = [...touched];
      const statuses = ids.map((id) => messageStatus(states.filter((s) => s.message_id === id)));
      await changes(c, SQL.setMessageStatuses, [ids, statuses]);
    });
  }

  // ---- events and notifications ----

  async appendEvents(messageId: string, events: NewEvent[]): Promise<StoredEvent[]> {
    const stored = await this.#tx((c) => this.#append(c, messageId, events));
    if (!stored) throw new Error(`appendEvents: no message ${messageId}`);
    return stored;
  }

  /** Appends events to one message with the next seqs and fans them out; undefined when no message.
   *  The one place (with recordOpens) events and notification rows are written. */
  async #append(c: pg.PoolClient, messageId: string, events: NewEvent[]): Promise<StoredEvent[] | undefined> {
    if (events.length === 0) {
      return (await rows(c, SQL.messageExists, [messageId])).length > 0 ? [] : undefined;
    }
    const out = await rows<{ ord: number; seq: number }>(c, SQL.append, [
      events.map(() => messageId), events.map((e) => e.kind), events.map((e) => e.at),
      events.map((e) => JSON.stringify(e.detail)), events.map((e) => KIND_TO_MATCHING[e.kind]), false,
    ]);
    if (out.length === 0) return undefined;
    return events.map((ev, i) => {
      const seq = out[i]!.seq;
      return { ...ev, messageId, seq, eventId: eventId(messageId, seq) };
    });
  }

  async recordOpens(opens: OpenInput[]): Promise<(number | null)[]> {
    if (opens.length === 0) return [];
    return this.#tx(async (c) => {
      // Row locks in id order first: two instances flushing overlapping batches queue, never deadlock.
      await rows(c, SQL.lockMessages, [[...new Set(opens.map((o) => o.messageId))]]);
      const out = await rows<{ ord: number; seq: number }>(c, SQL.append, [
        opens.map((o) => o.messageId), opens.map(() => 'Open'), opens.map((o) => o.at),
        opens.map((o) => JSON.stringify({ ipAddress: o.ipAddress, timestamp: rfc3339(o.at), userAgent: o.userAgent })),
        opens.map(() => KIND_TO_MATCHING.Open), true,
      ]);
      const seqs: (number | null)[] = opens.map(() => null);
      for (const r of out) seqs[r.ord - 1] = r.seq;
      return seqs;
    });
  }

  async claimNotifications(destinationId: number, now: number, limit: number, leaseMs: number): Promise<NotificationJob[]> {
    const n = boundLimit(limit);
    const found = await rows<ClaimNotificationRow>(this.#db, SQL.claimNotifications, [destinationId, now, n, now + leaseMs]);
    return found.map((r) => ({
      id: r.id, destinationId: r.destination_id, event: toEvent(r), mail: r.mail, attempts: r.attempts, createdAt: r.created_at,
    }));
  }

  async markNotificationDelivered(id: number, at: number, status: string): Promise<void> {
    await changes(this.#db, SQL.markDelivered, [id, at, status]);
  }

  async markNotificationRetry(id: number, nextAttemptAt: number, status: string): Promise<void> {
    await this.#tx(async (c) => {
      const [row] = await rows<{ destination_id: number; message_id: string }>(c, SQL.markRetry, [id, nextAttemptAt, status]);
      if (row) await changes(c, SQL.pushBackLater, [id, nextAttemptAt, row.destination_id, row.message_id]);
    });
  }

  async markNotificationDead(id: number, _at: number, status: string): Promise<void> {
    await changes(this.#db, SQL.markDead, [id, status]);
  }

  async listNotifications(filter: { destinationId?: number; messageId?: string; state?: NotificationState; since?: number; until?: number },
    limit: number): Promise<NotificationRow[]> {
    // Only the filters given become conditions (null counts as not given, as in SQLite), so the
    // planner sees the indexed key (message or destination).
    const values: unknown[] = [];
    const where: string[] = [];
    const add = (cond: string, v: unknown) => { values.push(v); where.push(cond.replace('?', `$${values.length}`)); };
    if (filter.messageId != null) add('n.message_id = ?', filter.messageId);
    if (filter.destinationId != null) add('n.destination_id = ?', filter.destinationId);
    if (filter.state != null) add('n.state = ?', filter.state);
    if (filter.since != null) add('n.created_at >= ?', filter.since);
    if (filter.until != null) add('n.created_at < ?', filter.until);
    values.push(boundLimit(limit));
    const text = `${NOTIFICATION_LIST_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY n.id LIMIT $${values.length}`;
    return (await this.#db.query<NotificationListRow>(text, values)).rows.map(toNotificationRow);
  }

  async replayNotifications(destinationId: number, filter: { since?: number; until?: number; states: NotificationState[] }, now: number): Promise<number> {
    return changes(this.#db, SQL.replay, [destinationId, now, filter.states, filter.since ?? null, filter.until ?? null]);
  }

  async nextNotificationDue(destinationId: number): Promise<number | null> {
    const [r] = await rows<{ t: number | null }>(this.#db, SQL.nextNotificationDue, [destinationId]);
    return r?.t ?? null;
  }

  async destinationsWithPending(now: number): Promise<number[]> {
    return (await rows<{ id: number }>(this.#db, SQL.destinationsWithPending, [now])).map((r) => r.id);
  }

  // ---- metrics/health ----

  async counts(): Promise<Record<string, number>> {
    const [r] = await rows<Record<string, number>>(this.#db, SQL.counts);
    return { ...r! };
  }
}
