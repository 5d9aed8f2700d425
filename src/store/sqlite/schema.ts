// The SQLite schema of the store and its forward-only migrations, in one place.
// `schema_version` holds the number of migrations applied; each migration runs once,
// inside the same transaction that bumps the version, so a crash never leaves half a
// schema. Trusts nothing but the file it is given; never edits a migration already shipped.
import type Database from 'better-sqlite3';

/** Migration n (1-based) takes the schema from version n-1 to n. Append only. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE access_keys (
    id          TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  );

  CREATE TABLE identities (
    name        TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    config_set  TEXT
  );

  CREATE TABLE config_sets (
    name        TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    options     TEXT NOT NULL          -- JSON, SES v2 shapes
  );

  -- Soft-deleted rows stay so notification history keeps pointing at them; the
  -- name is unique only among live rows, so a deleted name can be reused.
  CREATE TABLE destinations (
    id              INTEGER PRIMARY KEY,
    config_set      TEXT NOT NULL,
    name            TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    types           TEXT NOT NULL,     -- JSON array of MatchingEventType
    kind            TEXT NOT NULL,
    settings        TEXT NOT NULL,     -- JSON
    disabled_reason TEXT,
    created_at      INTEGER NOT NULL,
    deleted_at      INTEGER
  );
  CREATE UNIQUE INDEX destinations_live_name ON destinations(config_set, name) WHERE deleted_at IS NULL;

  -- The raw bytes live in their own table, so reading or updating a message's status
  -- never drags a large body through the page cache. No per-message counters here: the
  -- pixel hot path must not rewrite this row on every open (a random page per open);
  -- the next seq and the open count come from the events index instead.
  CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    accepted_at      INTEGER NOT NULL,
    identity         TEXT NOT NULL,
    mail_from        TEXT NOT NULL,
    config_set       TEXT,
    recipients       TEXT NOT NULL,    -- JSON array
    tracked          INTEGER NOT NULL,
    inject_outcome   TEXT NOT NULL,
    mail             TEXT NOT NULL,    -- JSON: the notification "mail" object
    delivery_options TEXT NOT NULL,    -- JSON
    size             INTEGER NOT NULL,
    status           TEXT NOT NULL
  );
  CREATE INDEX messages_by_accepted ON messages(accepted_at, id);

  CREATE TABLE message_raw (
    message_id  TEXT PRIMARY KEY REFERENCES messages(id),
    raw         BLOB NOT NULL
  );

  -- Subscriptions of the message's set as they were at accept, one row per
  -- (destination, matching type), so event -> notification rows is one INSERT ... SELECT.
  CREATE TABLE message_destinations (
    message_id      TEXT NOT NULL REFERENCES messages(id),
    event_type      TEXT NOT NULL,
    destination_id  INTEGER NOT NULL REFERENCES destinations(id),
    PRIMARY KEY (message_id, event_type, destination_id)
  ) WITHOUT ROWID;

  CREATE TABLE outbound (
    id                INTEGER PRIMARY KEY,
    message_id        TEXT NOT NULL REFERENCES messages(id),
    recipient         TEXT NOT NULL,
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    lease_until       INTEGER NOT NULL,
    first_failure_at  INTEGER,
    delay_emitted     INTEGER NOT NULL,
    last_error        TEXT
  );
  CREATE INDEX outbound_due ON outbound(next_attempt_at, id) WHERE state = 'pending';
  CREATE INDEX outbound_by_message ON outbound(message_id);

  -- Append-only event log; eventId = message_id || ':' || seq. An event is the durable
  -- record of its notifications: the fan-out below turns it into one delivery row per
  -- subscribed destination, in log order, before anything reads or changes those rows.
  CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    message_id  TEXT NOT NULL REFERENCES messages(id),
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    detail      TEXT NOT NULL,         -- JSON: the type-specific block
    UNIQUE (message_id, seq)
  );

  -- One delivery row per (event, destination). message_id is copied from the event
  -- so the per-message ordering check is one index probe. No REFERENCES here: rows are
  -- only made by the fan-out INSERT ... SELECT from rows that exist, and the two foreign-key
  -- probes cost every open ~10 % of its time (measured).
  CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY,
    event_rowid      INTEGER NOT NULL,
    destination_id   INTEGER NOT NULL,
    message_id       TEXT NOT NULL,
    -- 'pending' (the head of its message for this destination), 'waiting' (queued behind
    -- the head; 'pending' to callers), 'delivered', 'dead'.
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER NOT NULL,
    last_status      TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
  );
  -- Two indexes only: each one costs every open an extra B-tree insert per destination.
  -- By destination and state: the dispatcher's due query (state 'pending', by due time),
  -- scheduling (MIN due, EXISTS due), killing a deleted destination's rows, replay of dead rows.
  CREATE INDEX notifications_by_destination ON notifications(destination_id, state, next_attempt_at, id);
  -- By message: "is an earlier row of this message still pending for this destination?"
  -- (per-message order), "is one unfinished?" (fan-out), the next waiting row (promotion),
  -- and listing a message's rows.
  CREATE INDEX notifications_by_message ON notifications(message_id, destination_id, state, id);

  -- Opens land here first: one append per open, no index to update (an index insert per
  -- open is a random page the commit must write whole; measured ~3x the cost of this).
  -- seq is final when written; the next fan-out moves the rows into events, in order.
  CREATE TABLE open_journal (
    id          INTEGER PRIMARY KEY,
    message_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    detail      TEXT NOT NULL
  );

  -- The fan-out cursor: events with id <= last_event have their notification rows. Opens
  -- commit only their journal row (the pixel's 200 waits for nothing else); the event and
  -- its rows follow in the next fan-out, which every read of events or notifications runs first.
  CREATE TABLE fanout_cursor (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    last_event  INTEGER NOT NULL
  );
  INSERT INTO fanout_cursor (id, last_event) VALUES (1, 0);
  `,
  // 2: one journal row per group commit instead of one per open. Most of a row's cost is
  // the row itself (a native call, a b-tree cell, JSON per open): `BENCH_ONLY=store npm run
  // bench:pixel`, six runs alternating with layout 1, median CPU per open of repeat opens
  // 6.4 -> 2.3 µs, of first opens 8.6 -> 5.5 µs. Opens journaled in layout 1 become events first.
  `
  INSERT INTO events (message_id, seq, kind, at, detail)
    SELECT message_id, seq, 'Open', at, detail FROM open_journal ORDER BY id;
  DROP TABLE open_journal;
  CREATE TABLE open_journal (
    id     INTEGER PRIMARY KEY,
    -- JSON [[message_id, seq, at, ip_address, user_agent], ...]: the opens of one commit, in order
    opens  TEXT NOT NULL
  );
  `,
  // 3: the server appends opens to a file beside the database (open-log.ts) instead of
  // committing them here; the fan-out turns the file's frames into events and moves this
  // read position in the same transaction. generation numbers the file, which the server
  // replaces by the next one once everything in it is taken.
  `
  CREATE TABLE open_log (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL,
    offset      INTEGER NOT NULL
  );
  INSERT INTO open_log (id, generation, offset) VALUES (1, 1, 0);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema up to SCHEMA_VERSION. Refuses a file written by a newer build. */
export function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const run = db.transaction(() => {
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    if (version > MIGRATIONS.length) {
      throw new Error(`database schema version ${version} is newer than this build supports (${MIGRATIONS.length}); upgrade mailbeacon`);
    }
    for (; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    }
  });
  // IMMEDIATE: two processes starting at once must not both try to migrate.
  run.immediate();
}
