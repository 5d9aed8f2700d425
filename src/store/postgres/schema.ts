// The PostgreSQL schema of the store and its forward-only migrations: the same tables and
// columns as sqlite/schema.ts (so both adapters mean the same thing), in PostgreSQL types.
// Several gateway instances may start at once against one database, so migrating runs in one
// transaction under a transaction-scoped advisory lock; DDL is transactional here, so a crash
// never leaves half a schema. Trusts only the schema name, which it checks itself.
import type pg from 'pg';

/** Migration n (1-based) takes the schema from version n-1 to n. Append only. */
const MIGRATIONS: readonly string[] = [
  `
  -- Text keys collate "C" (byte order): the same order as SQLite, and keyset paging
  -- (name > $after ORDER BY name) does not depend on the server's locale.
  CREATE TABLE access_keys (
    id          text COLLATE "C" PRIMARY KEY,
    secret      text NOT NULL,
    name        text NOT NULL,
    created_at  bigint NOT NULL,
    revoked_at  bigint
  );

  CREATE TABLE identities (
    name        text COLLATE "C" PRIMARY KEY,
    created_at  bigint NOT NULL,
    config_set  text
  );

  -- json, not jsonb: jsonb reorders object keys, and a notification must render the
  -- mail object and details exactly as they were given, every time.
  CREATE TABLE config_sets (
    name        text COLLATE "C" PRIMARY KEY,
    created_at  bigint NOT NULL,
    options     json NOT NULL
  );

  -- Soft-deleted rows stay so notification history keeps pointing at them; the
  -- name is unique only among live rows, so a deleted name can be reused.
  CREATE TABLE destinations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    config_set      text COLLATE "C" NOT NULL,
    name            text COLLATE "C" NOT NULL,
    enabled         boolean NOT NULL,
    types           json NOT NULL,
    kind            text NOT NULL,
    settings        json NOT NULL,
    disabled_reason text,
    created_at      bigint NOT NULL,
    deleted_at      bigint
  );
  CREATE UNIQUE INDEX destinations_live_name ON destinations(config_set, name) WHERE deleted_at IS NULL;

  -- Every open updates event_seq/open_count; neither is indexed, so with free space on
  -- the page (fillfactor) the update is HOT and touches no index. The raw bytes live in
  -- their own table so the row that is rewritten per open stays small.
  CREATE TABLE messages (
    id               text COLLATE "C" PRIMARY KEY,
    accepted_at      bigint NOT NULL,
    identity         text NOT NULL,
    mail_from        text NOT NULL,
    config_set       text,
    recipients       json NOT NULL,
    tracked          boolean NOT NULL,
    inject_outcome   text NOT NULL,
    mail             json NOT NULL,
    delivery_options json NOT NULL,
    size             integer NOT NULL,
    status           text NOT NULL,
    event_seq        integer NOT NULL,
    open_count       integer NOT NULL
  ) WITH (fillfactor = 80);
  CREATE INDEX messages_by_accepted ON messages(accepted_at, id);

  CREATE TABLE message_raw (
    message_id  text COLLATE "C" PRIMARY KEY REFERENCES messages(id),
    raw         bytea NOT NULL
  );

  -- Subscriptions of the message's set as they were at accept, one row per
  -- (destination, matching type), so event -> notification rows is one INSERT ... SELECT.
  CREATE TABLE message_destinations (
    message_id      text COLLATE "C" NOT NULL REFERENCES messages(id),
    event_type      text NOT NULL,
    destination_id  bigint NOT NULL REFERENCES destinations(id),
    PRIMARY KEY (message_id, event_type, destination_id)
  );

  CREATE TABLE outbound (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id        text COLLATE "C" NOT NULL REFERENCES messages(id),
    recipient         text NOT NULL,
    state             text NOT NULL,
    attempts          integer NOT NULL,
    next_attempt_at   bigint NOT NULL,
    lease_until       bigint NOT NULL,
    first_failure_at  bigint,
    delay_emitted     boolean NOT NULL,
    last_error        text
  );
  CREATE INDEX outbound_due ON outbound(next_attempt_at, id) WHERE state = 'pending';
  CREATE INDEX outbound_by_message ON outbound(message_id);

  -- Append-only event log; eventId = message_id || ':' || seq.
  CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  text COLLATE "C" NOT NULL REFERENCES messages(id),
    seq         integer NOT NULL,
    kind        text NOT NULL,
    at          bigint NOT NULL,
    detail      json NOT NULL,
    UNIQUE (message_id, seq)
  );

  -- One delivery row per (event, destination). message_id is copied from the event
  -- so the per-message ordering check is one index probe. No foreign keys here, unlike
  -- SQLite: rows are only ever made by the fan-out INSERT ... SELECT from a just-inserted
  -- event and a message_destinations row (which has the FKs), and destinations are never
  -- deleted; an FK check would take a KEY SHARE lock on the one destinations row that
  -- every open of every instance points at (MultiXact contention on the pixel path).
  CREATE TABLE notifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_rowid      bigint NOT NULL,
    destination_id   bigint NOT NULL,
    message_id       text COLLATE "C" NOT NULL,
    state            text NOT NULL,
    attempts         integer NOT NULL,
    next_attempt_at  bigint NOT NULL,
    lease_until      bigint NOT NULL,
    last_status      text,
    created_at       bigint NOT NULL,
    delivered_at     bigint
  );
  -- The same two indexes as SQLite; each costs every open one B-tree insert per destination.
  -- By destination and state: the dispatcher's due query (state 'pending', by due time),
  -- scheduling (MIN due, EXISTS due), killing a deleted destination's rows, replay.
  CREATE INDEX notifications_by_destination ON notifications(destination_id, state, next_attempt_at, id);
  -- By message: "is an earlier row of this message still pending for this destination?"
  -- (per-message order), the newest pending row (fan-out), and listing a message's rows.
  CREATE INDEX notifications_by_message ON notifications(message_id, destination_id, state, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** A plain lower-case SQL identifier: it is spliced into DDL and search_path, never quoted from user data. */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new RangeError(`postgres schema name must match [a-z_][a-z0-9_]* (max 63 chars), got ${JSON.stringify(schema)}`);
  }
  return schema;
}

/** Advisory-lock key of a schema's migrations: a stable 63-bit number from its name. */
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('mailbeacon:migrate:' || $1, 0))`;

/**
 * Brings the schema up to SCHEMA_VERSION, creating it if missing. Refuses a schema written by a
 * newer build. The client must not be inside a transaction.
 */
export async function migrate(client: pg.ClientBase, schema: string): Promise<void> {
  checkSchemaName(schema);
  await client.query('BEGIN');
  try {
    // Taken first: CREATE SCHEMA IF NOT EXISTS itself races (unique violation) without it.
    await client.query(LOCK_SQL, [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_version');
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO schema_version (version) VALUES (0)');
    if (version > MIGRATIONS.length) {
      throw new Error(`database schema version ${version} is newer than this build supports (${MIGRATIONS.length}); upgrade mailbeacon`);
    }
    for (; version < MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version]!);
      await client.query('UPDATE schema_version SET version = $1', [version + 1]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
