// Every fixed SQL statement of the PostgreSQL adapter, as named (server-side prepared) queries:
// each pooled connection parses a statement once, then only binds values. The statements mean
// exactly what sqlite/statements.ts means; where several instances share the database they add
// row locking: queue claims use FOR UPDATE SKIP LOCKED, seq/open-count bumps are one UPDATE ...
// RETURNING, and multi-message writes lock message rows in id order first (no lock cycles).
import { LIST_CAP } from '../paging.js';
import { MESSAGE_COLS } from './rows.js';

export interface Named { name: string; text: string }
const q = (name: string, text: string): Named => ({ name: `mb_${name}`, text });

const NOTIFICATION_COLUMNS = `event_rowid, destination_id, message_id, state, attempts,
  next_attempt_at, lease_until, last_status, created_at, delivered_at`;

export const SQL = {
  // ---- access keys ----
  insertAccessKey: q('insert_access_key', `INSERT INTO access_keys (id, secret, name, created_at, revoked_at)
    VALUES ($1, $2, $3, $4, $5)`),
  getAccessKey: q('get_access_key', 'SELECT * FROM access_keys WHERE id = $1'),
  listAccessKeys: q('list_access_keys', `SELECT * FROM access_keys ORDER BY created_at, id LIMIT ${LIST_CAP}`),
  revokeAccessKey: q('revoke_access_key', 'UPDATE access_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1'),

  // ---- identities ----
  insertIdentity: q('insert_identity', 'INSERT INTO identities (name, created_at, config_set) VALUES ($1, $2, $3)'),
  getIdentity: q('get_identity', 'SELECT * FROM identities WHERE name = $1'),
  listIdentities: q('list_identities', 'SELECT * FROM identities WHERE name > $1 ORDER BY name LIMIT $2'),
  deleteIdentity: q('delete_identity', 'DELETE FROM identities WHERE name = $1'),
  setIdentityConfigSet: q('set_identity_config_set', 'UPDATE identities SET config_set = $2 WHERE name = $1'),

  // ---- configuration sets ----
  insertConfigSet: q('insert_config_set', 'INSERT INTO config_sets (name, created_at, options) VALUES ($1, $2, $3::json)'),
  getConfigSet: q('get_config_set', 'SELECT * FROM config_sets WHERE name = $1'),
  listConfigSets: q('list_config_sets', 'SELECT * FROM config_sets WHERE name > $1 ORDER BY name LIMIT $2'),
  updateConfigSetOptions: q('update_config_set_options', 'UPDATE config_sets SET options = $2::json WHERE name = $1'),
  deleteConfigSet: q('delete_config_set', 'DELETE FROM config_sets WHERE name = $1'),

  // ---- destinations ----
  insertDestination: q('insert_destination', `INSERT INTO destinations
      (config_set, name, enabled, types, kind, settings, disabled_reason, created_at, deleted_at)
    VALUES ($1, $2, $3, $4::json, $5, $6::json, $7, $8, NULL) RETURNING *`),
  listDestinations: q('list_destinations', `SELECT * FROM destinations WHERE config_set = $1 AND deleted_at IS NULL
    ORDER BY name LIMIT ${LIST_CAP}`),
  getDestinationById: q('get_destination_by_id', 'SELECT * FROM destinations WHERE id = $1 AND deleted_at IS NULL'),
  // A user edit clears the gateway's disabled_reason: the user has now decided.
  updateDestination: q('update_destination', `UPDATE destinations
    SET enabled = $3, types = $4::json, kind = $5, settings = $6::json, disabled_reason = NULL
    WHERE config_set = $1 AND name = $2 AND deleted_at IS NULL RETURNING *`),
  softDeleteDestination: q('soft_delete_destination', `UPDATE destinations SET deleted_at = $3
    WHERE config_set = $1 AND name = $2 AND deleted_at IS NULL RETURNING id`),
  softDeleteSetDestinations: q('soft_delete_set_destinations', `UPDATE destinations SET deleted_at = $2
    WHERE config_set = $1 AND deleted_at IS NULL RETURNING id`),
  killPendingOfDestinations: q('kill_pending_of_destinations', `UPDATE notifications
    SET state = 'dead', last_status = 'destination deleted', lease_until = 0
    WHERE destination_id = ANY($1::int8[]) AND state = 'pending'`),
  disableDestination: q('disable_destination', 'UPDATE destinations SET enabled = false, disabled_reason = $2 WHERE id = $1'),
  listAllDestinations: q('list_all_destinations', `SELECT * FROM destinations WHERE enabled AND deleted_at IS NULL
    ORDER BY id LIMIT ${LIST_CAP}`),

  // ---- messages ----
  insertMessage: q('insert_message', `INSERT INTO messages (id, accepted_at, identity, mail_from, config_set, recipients,
      tracked, inject_outcome, mail, delivery_options, size, status, event_seq, open_count)
    VALUES ($1, $2, $3, $4, $5, $6::json, $7, $8, $9::json, $10::json, $11, 'queued', 0, 0)`),
  insertRaw: q('insert_raw', 'INSERT INTO message_raw (message_id, raw) VALUES ($1, $2)'),
  insertSnapshot: q('insert_snapshot', `INSERT INTO message_destinations (message_id, event_type, destination_id)
    SELECT $1, t.event_type, t.destination_id FROM unnest($2::text[], $3::int8[]) AS t(event_type, destination_id)
    ON CONFLICT DO NOTHING`),
  insertOutbound: q('insert_outbound', `INSERT INTO outbound (message_id, recipient, state, attempts, next_attempt_at,
      lease_until, first_failure_at, delay_emitted, last_error)
    SELECT $1, t.recipient, 'pending', 0, $3, 0, NULL, false, NULL
    FROM unnest($2::text[]) WITH ORDINALITY AS t(recipient, ord) ORDER BY t.ord`),
  messageExists: q('message_exists', 'SELECT 1 FROM messages WHERE id = $1'),
  getMessage: q('get_message', `SELECT ${MESSAGE_COLS} FROM messages WHERE id = $1`),
  getMessageRaw: q('get_message_raw', 'SELECT raw FROM message_raw WHERE message_id = $1'),
  listMessagesFirst: q('list_messages_first', `SELECT ${MESSAGE_COLS} FROM messages
    ORDER BY accepted_at DESC, id DESC LIMIT $1`),
  listMessagesAfter: q('list_messages_after', `SELECT ${MESSAGE_COLS} FROM messages WHERE (accepted_at, id) < ($1, $2)
    ORDER BY accepted_at DESC, id DESC LIMIT $3`),
  listMessageEvents: q('list_message_events', `SELECT message_id, seq, kind, at, detail FROM events
    WHERE message_id = $1 ORDER BY seq LIMIT ${LIST_CAP}`),
  listMessageOutbound: q('list_message_outbound', `SELECT recipient, state, attempts, last_error, next_attempt_at
    FROM outbound WHERE message_id = $1 ORDER BY id`),
  // Taken at the start of a transaction that will bump several messages: always in id order,
  // so two instances writing overlapping message sets wait for each other instead of deadlocking.
  lockMessages: q('lock_messages', 'SELECT id FROM messages WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE'),
  lockMessagesOfOutbound: q('lock_messages_of_outbound', `SELECT m.id FROM messages m
    WHERE m.id IN (SELECT o.message_id FROM outbound o WHERE o.id = ANY($1::int8[])) ORDER BY m.id FOR UPDATE OF m`),
  outboundStatesOf: q('outbound_states_of', `SELECT message_id, state, first_failure_at, attempts FROM outbound
    WHERE message_id = ANY($1::text[])`),
  setMessageStatuses: q('set_message_statuses', `UPDATE messages m SET status = t.status
    FROM unnest($1::text[], $2::text[]) AS t(id, status) WHERE m.id = t.id`),

  // ---- event log and fan-out ----
  // Appends events to one or many messages in one statement: per message, the seq counter is
  // bumped once by the number of its events (the UPDATE's row lock serialises concurrent
  // writers, RETURNING gives each its own range), events are numbered in input order, and each
  // gets one notification row per live, enabled snapshot destination subscribed to its type.
  // A new row is never due before the newest pending row of the same message and destination
  // (one in backoff), as in the SQLite fan-out. Inputs of unknown messages produce no row.
  append: q('append_events', `WITH input AS (
      SELECT t.message_id, t.kind, t.at, t.detail, t.event_type, t.ord
      FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[]) WITH ORDINALITY
        AS t(message_id, kind, at, detail, event_type, ord)
    ), counts AS (
      SELECT message_id, count(*)::int AS n FROM input GROUP BY message_id
    ), bumped AS (
      UPDATE messages m SET event_seq = m.event_seq + c.n,
        open_count = m.open_count + CASE WHEN $6::boolean THEN c.n ELSE 0 END
      FROM counts c WHERE m.id = c.message_id
      RETURNING m.id, m.event_seq - c.n AS base
    ), numbered AS (
      SELECT i.ord, i.message_id, i.kind, i.at, i.detail, i.event_type,
        (b.base + row_number() OVER (PARTITION BY i.message_id ORDER BY i.ord))::int AS seq
      FROM input i JOIN bumped b ON b.id = i.message_id
    ), ins AS (
      INSERT INTO events (message_id, seq, kind, at, detail)
      SELECT message_id, seq, kind, at, detail::json FROM numbered ORDER BY ord
      RETURNING id, message_id, seq, at
    ), fan AS (
      INSERT INTO notifications (${NOTIFICATION_COLUMNS})
      SELECT ins.id, md.destination_id, ins.message_id, 'pending', 0,
        -- Pending rows of a message are kept in due order (pushBackLater), so the newest one
        -- carries the latest due time: one probe of notifications_by_message, not a scan.
        GREATEST(ins.at, COALESCE((SELECT p.next_attempt_at FROM notifications p
          WHERE p.message_id = ins.message_id AND p.destination_id = md.destination_id AND p.state = 'pending'
          ORDER BY p.id DESC LIMIT 1), ins.at)),
        0, NULL, ins.at, NULL
      FROM ins
        JOIN numbered nb ON nb.message_id = ins.message_id AND nb.seq = ins.seq
        JOIN message_destinations md ON md.message_id = ins.message_id AND md.event_type = nb.event_type
        JOIN destinations d ON d.id = md.destination_id
      WHERE d.deleted_at IS NULL AND d.enabled
      ORDER BY ins.id, md.destination_id
    )
    SELECT ord, seq FROM numbered ORDER BY ord`),

  // ---- outbound queue ----
  // SKIP LOCKED: two instances claiming at once each get different rows, neither waits; a row
  // another instance leased and committed fails the re-checked lease_until and is left out.
  claimOutbound: q('claim_outbound', `WITH picked AS (
      SELECT id FROM outbound
      WHERE state = 'pending' AND next_attempt_at <= $1 AND lease_until <= $1
      ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
    ), leased AS (
      UPDATE outbound o SET lease_until = $3 FROM picked WHERE o.id = picked.id
      RETURNING o.id, o.message_id, o.recipient, o.attempts, o.first_failure_at, o.delay_emitted, o.next_attempt_at
    ), sending AS (
      UPDATE messages m SET status = 'sending'
      WHERE m.id IN (SELECT x.id FROM messages x WHERE x.id IN (SELECT message_id FROM leased) AND x.status = 'queued'
        ORDER BY x.id FOR UPDATE)
    )
    SELECT l.id, l.message_id, l.recipient, l.attempts, l.first_failure_at, l.delay_emitted,
      m.accepted_at, m.mail_from, m.delivery_options
    FROM leased l JOIN messages m ON m.id = l.message_id
    ORDER BY l.next_attempt_at, l.id`),
  // Only a pending row takes an outcome: a second worker finishing a row whose lease
  // ran out must not append a second Delivery.
  applyOutcome: q('apply_outcome', `UPDATE outbound SET
      state = $2,
      attempts = attempts + 1,
      next_attempt_at = COALESCE($3::int8, next_attempt_at),
      lease_until = 0,
      first_failure_at = CASE WHEN $4::boolean THEN COALESCE(first_failure_at, $5::int8) ELSE first_failure_at END,
      delay_emitted = delay_emitted OR $6::boolean,
      last_error = CASE WHEN $7::boolean THEN $8::text ELSE last_error END
    WHERE id = $1 AND state = 'pending' RETURNING message_id`),

  // ---- notifications ----
  // Head-of-message rule as in SQLite: a row is claimable only when no earlier row of the same
  // message is still pending for this destination (in backoff, or leased by another instance).
  claimNotifications: q('claim_notifications', `WITH picked AS (
      SELECT n.id FROM notifications n
      WHERE n.destination_id = $1 AND n.state = 'pending' AND n.next_attempt_at <= $2 AND n.lease_until <= $2
        AND NOT EXISTS (SELECT 1 FROM notifications h
          WHERE h.destination_id = n.destination_id AND h.message_id = n.message_id
            AND h.state = 'pending' AND h.id < n.id)
      ORDER BY n.next_attempt_at, n.id LIMIT $3 FOR UPDATE OF n SKIP LOCKED
    ), leased AS (
      UPDATE notifications n SET lease_until = $4 FROM picked WHERE n.id = picked.id
      RETURNING n.id, n.destination_id, n.attempts, n.created_at, n.event_rowid, n.message_id, n.next_attempt_at
    )
    SELECT l.id, l.destination_id, l.attempts, l.created_at, e.message_id, e.seq, e.kind, e.at, e.detail, m.mail
    FROM leased l JOIN events e ON e.id = l.event_rowid JOIN messages m ON m.id = l.message_id
    ORDER BY l.next_attempt_at, l.id`),
  markDelivered: q('mark_delivered', `UPDATE notifications SET state = 'delivered', attempts = attempts + 1,
    delivered_at = $2, last_status = $3, lease_until = 0 WHERE id = $1`),
  markRetry: q('mark_retry', `UPDATE notifications
    SET attempts = attempts + 1, next_attempt_at = $2, last_status = $3, lease_until = 0
    WHERE id = $1 AND state = 'pending' RETURNING destination_id, message_id`),
  // Later rows of the same message wait behind a head in backoff (see append).
  pushBackLater: q('push_back_later', `UPDATE notifications SET next_attempt_at = $2
    WHERE destination_id = $3 AND message_id = $4 AND state = 'pending' AND id > $1 AND next_attempt_at < $2`),
  markDead: q('mark_dead', `UPDATE notifications SET state = 'dead', attempts = attempts + 1, last_status = $2,
    lease_until = 0 WHERE id = $1 AND state = 'pending'`),
  // Replay never revives rows of a deleted destination: nobody would send them.
  replay: q('replay', `UPDATE notifications
    SET state = 'pending', attempts = 0, next_attempt_at = $2, lease_until = 0, delivered_at = NULL
    WHERE destination_id = $1 AND state = ANY($3::text[])
      AND ($4::int8 IS NULL OR created_at >= $4) AND ($5::int8 IS NULL OR created_at < $5)
      AND EXISTS (SELECT 1 FROM destinations d WHERE d.id = $1 AND d.deleted_at IS NULL)`),
  nextNotificationDue: q('next_notification_due', `SELECT MIN(next_attempt_at) AS t FROM notifications
    WHERE destination_id = $1 AND state = 'pending'`),
  destinationsWithPending: q('destinations_with_pending', `SELECT d.id FROM destinations d WHERE EXISTS (
      SELECT 1 FROM notifications n WHERE n.destination_id = d.id AND n.state = 'pending' AND n.next_attempt_at <= $1)
    ORDER BY d.id LIMIT ${LIST_CAP}`),

  // ---- metrics ----
  counts: q('counts', `SELECT
    (SELECT COUNT(*) FROM messages) AS "messages",
    (SELECT COUNT(*) FROM events) AS "events",
    (SELECT COUNT(*) FROM outbound WHERE state = 'pending') AS "outboundPending",
    (SELECT COUNT(*) FROM notifications WHERE state = 'pending') AS "notificationsPending",
    (SELECT COUNT(*) FROM notifications WHERE state = 'dead') AS "notificationsDead",
    (SELECT COUNT(*) FROM notifications WHERE state = 'delivered') AS "notificationsDelivered",
    (SELECT COUNT(*) FROM identities) AS "identities",
    (SELECT COUNT(*) FROM config_sets) AS "configSets",
    (SELECT COUNT(*) FROM destinations WHERE deleted_at IS NULL) AS "destinations",
    (SELECT COUNT(*) FROM access_keys WHERE revoked_at IS NULL) AS "accessKeys"`),
} as const;

/** Columns of listNotifications; its WHERE is built from the filters given (see postgres-store.ts). */
export const NOTIFICATION_LIST_SELECT = `SELECT n.id, n.destination_id, n.message_id, e.seq, e.kind, n.state, n.attempts,
  n.next_attempt_at, n.last_status, n.created_at, n.delivered_at
  FROM notifications n JOIN events e ON e.id = n.event_rowid`;
