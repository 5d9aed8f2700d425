// Every SQL statement of the SQLite adapter, prepared once when the store opens (the
// pixel hot path must not re-parse SQL per open). Queue reads name the partial
// indexes of schema.ts in their WHERE clauses (state = 'pending') so the planner uses them.
import type Database from 'better-sqlite3';
import type {
  AccessKeyRow, ConfigSetRow, DestinationRow, EventRow, IdentityRow, MessageRow,
  NotificationListRow, OutboundListRow,
} from './rows.js';

import { LIST_CAP } from '../paging.js';

const MESSAGE_COLS = `id, accepted_at, identity, mail_from, config_set, recipients, tracked, inject_outcome,
  mail, delivery_options, size, status,
  (SELECT COUNT(*) FROM events e WHERE e.message_id = messages.id AND e.kind = 'Open') AS open_count`;

const NOTIFICATION_LIST_COLS = `n.id, n.destination_id, n.message_id, e.seq, e.kind, n.state, n.attempts,
  n.next_attempt_at, n.last_status, n.created_at, n.delivered_at`;

// Optional filters of listNotifications; the indexed key (destination or message) is fixed per statement.
const NOTIFICATION_FILTERS = `(@state IS NULL OR n.state = @state OR (@state = 'pending' AND n.state = 'waiting'))
  AND (@since IS NULL OR n.created_at >= @since) AND (@until IS NULL OR n.created_at < @until)`;

export interface ClaimOutboundRow {
  id: number; message_id: string; recipient: string; attempts: number; first_failure_at: number | null;
  delay_emitted: number; accepted_at: number; mail_from: string; delivery_options: string;
}
export interface ClaimNotificationRow extends EventRow {
  id: number; destination_id: number; attempts: number; created_at: number; mail: string;
}

export function prepareStatements(db: Database.Database) {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    // ---- access keys ----
    insertAccessKey: p(`INSERT INTO access_keys (id, secret, name, created_at, revoked_at)
      VALUES (@id, @secret, @name, @createdAt, @revokedAt)`),
    getAccessKey: p<AccessKeyRow>('SELECT * FROM access_keys WHERE id = ?'),
    listAccessKeys: p<AccessKeyRow>(`SELECT * FROM access_keys ORDER BY created_at, id LIMIT ${LIST_CAP}`),
    revokeAccessKey: p('UPDATE access_keys SET revoked_at = COALESCE(revoked_at, @at) WHERE id = @id'),

    // ---- identities ----
    insertIdentity: p('INSERT INTO identities (name, created_at, config_set) VALUES (@name, @createdAt, @configSet)'),
    getIdentity: p<IdentityRow>('SELECT * FROM identities WHERE name = ?'),
    listIdentities: p<IdentityRow>('SELECT * FROM identities WHERE name > @after ORDER BY name LIMIT @limit'),
    deleteIdentity: p('DELETE FROM identities WHERE name = ?'),
    setIdentityConfigSet: p('UPDATE identities SET config_set = @configSet WHERE name = @name'),

    // ---- configuration sets ----
    insertConfigSet: p('INSERT INTO config_sets (name, created_at, options) VALUES (@name, @createdAt, @options)'),
    getConfigSet: p<ConfigSetRow>('SELECT * FROM config_sets WHERE name = ?'),
    listConfigSets: p<ConfigSetRow>('SELECT * FROM config_sets WHERE name > @after ORDER BY name LIMIT @limit'),
    updateConfigSetOptions: p('UPDATE config_sets SET options = @options WHERE name = @name'),
    deleteConfigSet: p('DELETE FROM config_sets WHERE name = ?'),

    // ---- destinations ----
    insertDestination: p<DestinationRow>(`INSERT INTO destinations
      (config_set, name, enabled, types, kind, settings, disabled_reason, created_at, deleted_at)
      VALUES (@configSet, @name, @enabled, @types, @kind, @settings, @disabledReason, @createdAt, NULL) RETURNING *`),
    listDestinations: p<DestinationRow>(`SELECT * FROM destinations WHERE config_set = ? AND deleted_at IS NULL
      ORDER BY name LIMIT ${LIST_CAP}`),
    getDestinationById: p<DestinationRow>('SELECT * FROM destinations WHERE id = ? AND deleted_at IS NULL'),
    // A user edit clears the gateway's disabled_reason: the user has now decided.
    updateDestination: p<DestinationRow>(`UPDATE destinations
      SET enabled = @enabled, types = @types, kind = @kind, settings = @settings, disabled_reason = NULL
      WHERE config_set = @configSet AND name = @name AND deleted_at IS NULL RETURNING *`),
    softDeleteDestination: p<{ id: number }>(`UPDATE destinations SET deleted_at = @at
      WHERE config_set = @configSet AND name = @name AND deleted_at IS NULL RETURNING id`),
    softDeleteSetDestinations: p<{ id: number }>(`UPDATE destinations SET deleted_at = @at
      WHERE config_set = @configSet AND deleted_at IS NULL RETURNING id`),
    killPendingOfDestination: p(`UPDATE notifications SET state = 'dead', last_status = 'destination deleted', lease_until = 0
      WHERE destination_id = ? AND state IN ('pending', 'waiting')`),
    disableDestination: p('UPDATE destinations SET enabled = 0, disabled_reason = @reason WHERE id = @id'),
    listAllDestinations: p<DestinationRow>(`SELECT * FROM destinations WHERE enabled = 1 AND deleted_at IS NULL
      ORDER BY id LIMIT ${LIST_CAP}`),

    // ---- messages ----
    insertMessage: p(`INSERT INTO messages (id, accepted_at, identity, mail_from, config_set, recipients, tracked,
        inject_outcome, mail, delivery_options, size, status)
      VALUES (@id, @acceptedAt, @identity, @mailFrom, @configSet, @recipients, @tracked,
        @injectOutcome, @mail, @deliveryOptions, @size, 'queued')`),
    insertRaw: p('INSERT INTO message_raw (message_id, raw) VALUES (?, ?)'),
    insertSnapshot: p('INSERT OR IGNORE INTO message_destinations (message_id, event_type, destination_id) VALUES (?, ?, ?)'),
    insertOutbound: p(`INSERT INTO outbound (message_id, recipient, state, attempts, next_attempt_at, lease_until,
        first_failure_at, delay_emitted, last_error)
      VALUES (?, ?, 'pending', 0, ?, 0, NULL, 0, NULL)`),
    getMessage: p<MessageRow>(`SELECT ${MESSAGE_COLS} FROM messages WHERE id = ?`),
    getMessageRaw: p<{ raw: Buffer }>('SELECT raw FROM message_raw WHERE message_id = ?'),
    listMessagesFirst: p<MessageRow>(`SELECT ${MESSAGE_COLS} FROM messages
      ORDER BY accepted_at DESC, id DESC LIMIT ?`),
    listMessagesAfter: p<MessageRow>(`SELECT ${MESSAGE_COLS} FROM messages WHERE (accepted_at, id) < (@at, @id)
      ORDER BY accepted_at DESC, id DESC LIMIT @limit`),
    listMessageEvents: p<EventRow>(`SELECT message_id, seq, kind, at, detail FROM events
      WHERE message_id = ? ORDER BY seq LIMIT ${LIST_CAP}`),
    listMessageOutbound: p<OutboundListRow>(`SELECT recipient, state, attempts, last_error, next_attempt_at
      FROM outbound WHERE message_id = ? ORDER BY id`),
    setMessageStatus: p('UPDATE messages SET status = ? WHERE id = ?'),
    markMessageSending: p(`UPDATE messages SET status = 'sending' WHERE id = ? AND status = 'queued'`),

    // ---- event log and fan-out ----
    // Last seq of a message (0 before its first event), or no row when there is no such
    // message. Writers hold the write lock (IMMEDIATE), so max + 1 cannot race.
    lastSeq: p<{ seq: number }>(`SELECT (SELECT COALESCE(MAX(seq), 0) FROM events WHERE message_id = m.id) AS seq
      FROM messages m WHERE m.id = ?`),
    insertEvent: p('INSERT INTO events (message_id, seq, kind, at, detail) VALUES (?, ?, ?, ?, ?)'),
    fanOutCursor: p<{ last: number; head: number; journal: number; logGeneration: number; logOffset: number }>(`SELECT
      c.last_event AS last, (SELECT COALESCE(MAX(id), 0) FROM events) AS head,
      EXISTS (SELECT 1 FROM open_journal) AS journal, l.generation AS logGeneration, l.offset AS logOffset
      FROM fanout_cursor c, open_log l WHERE c.id = 1 AND l.id = 1`),
    getOpenLog: p<{ generation: number; offset: number }>('SELECT generation, offset FROM open_log WHERE id = 1'),
    setOpenLog: p('UPDATE open_log SET generation = @generation, offset = @offset WHERE id = 1'),
    insertJournal: p('INSERT INTO open_journal (opens) VALUES (?)'),
    // Journaled opens, in journal order, become Open events with the detail renderEvent
    // reads; the timestamp is Date#toISOString of at, in integer arithmetic so it is exact.
    journalToEvents: p(openEventsFrom('open_journal j, json_each(j.opens) e', 'j.id')),
    // The same for one frame of the open log, bound as the parameter.
    frameToEvents: p(openEventsFrom('json_each(?) e', '0')),
    clearJournal: p('DELETE FROM open_journal'),
    eventsAfter: p<{ id: number; message_id: string; kind: string; at: number }>(`SELECT id, message_id, kind, at
      FROM events WHERE id > ? ORDER BY id LIMIT ?`),
    moveFanOutCursor: p('UPDATE fanout_cursor SET last_event = ? WHERE id = 1'),
    // One notification row per live, enabled snapshot destination subscribed to the event's
    // type. Only the first unfinished row of a (message, destination) is 'pending'; later
    // ones are 'waiting' (shown as pending) until promote() moves them up, so the due
    // query never wades through a flood of one message's opens to find other messages.
    // INDEXED BY: without statistics the planner could scan every unfinished row of the
    // destination (a dead webhook's whole backlog) instead of this message's few.
    fanOut: p(`INSERT INTO notifications (event_rowid, destination_id, message_id, state, attempts,
        next_attempt_at, lease_until, last_status, created_at, delivered_at)
      SELECT @eventRowid, md.destination_id, @messageId,
        CASE WHEN EXISTS (SELECT 1 FROM notifications p INDEXED BY notifications_by_message
          WHERE p.message_id = @messageId AND p.destination_id = md.destination_id AND p.state IN ('pending', 'waiting'))
        THEN 'waiting' ELSE 'pending' END,
        0, @at, 0, NULL, @at, NULL
      FROM message_destinations md JOIN destinations d ON d.id = md.destination_id
      WHERE md.message_id = @messageId AND md.event_type = @type AND d.deleted_at IS NULL AND d.enabled = 1`),
    // After a row of (message, destination) finishes, the earliest waiting one becomes the
    // head, unless a pending row is still there (one revived by replay).
    promote: p(`UPDATE notifications SET state = 'pending'
      WHERE id = (SELECT w.id FROM notifications w
          WHERE w.message_id = @messageId AND w.destination_id = @destinationId AND w.state = 'waiting'
          ORDER BY w.id LIMIT 1)
        AND NOT EXISTS (SELECT 1 FROM notifications p
          WHERE p.message_id = @messageId AND p.destination_id = @destinationId AND p.state = 'pending')`),

    // ---- outbound queue ----
    selectDueOutbound: p<ClaimOutboundRow>(`SELECT o.id, o.message_id, o.recipient, o.attempts, o.first_failure_at,
        o.delay_emitted, m.accepted_at, m.mail_from, m.delivery_options
      FROM outbound o JOIN messages m ON m.id = o.message_id
      WHERE o.state = 'pending' AND o.next_attempt_at <= @now AND o.lease_until <= @now
      ORDER BY o.next_attempt_at, o.id LIMIT @limit`),
    leaseOutbound: p('UPDATE outbound SET lease_until = ? WHERE id = ?'),
    // Only a pending row takes an outcome: a second worker finishing a row whose lease
    // ran out must not append a second Delivery.
    applyOutcome: p<{ message_id: string }>(`UPDATE outbound SET
        state = @state,
        attempts = attempts + 1,
        next_attempt_at = COALESCE(@nextAttemptAt, next_attempt_at),
        lease_until = 0,
        first_failure_at = CASE WHEN @failed = 1 THEN COALESCE(first_failure_at, @at) ELSE first_failure_at END,
        delay_emitted = MAX(delay_emitted, @delayEmitted),
        last_error = CASE WHEN @setError = 1 THEN @lastError ELSE last_error END
      WHERE id = @id AND state = 'pending' RETURNING message_id`),
    outboundStatesOf: p<{ state: string; first_failure_at: number | null; attempts: number }>(
      'SELECT state, first_failure_at, attempts FROM outbound WHERE message_id = ?'),

    // ---- notifications ----
    // Head-of-message rule: a row is claimable only when no earlier row of the same
    // message is still pending for this destination (in backoff, or leased). fanOut's
    // 'waiting' state already keeps later rows out; this guard covers rows revived by replay.
    selectDueNotifications: p<ClaimNotificationRow>(`SELECT n.id, n.destination_id, n.attempts, n.created_at,
        e.message_id, e.seq, e.kind, e.at, e.detail, m.mail
      FROM notifications n
        JOIN events e ON e.id = n.event_rowid
        JOIN messages m ON m.id = n.message_id
      WHERE n.destination_id = @destinationId AND n.state = 'pending'
        AND n.next_attempt_at <= @now AND n.lease_until <= @now
        AND NOT EXISTS (SELECT 1 FROM notifications h
          WHERE h.destination_id = n.destination_id AND h.message_id = n.message_id
            AND h.state = 'pending' AND h.id < n.id)
      ORDER BY n.next_attempt_at, n.id LIMIT @limit`),
    leaseNotification: p('UPDATE notifications SET lease_until = ? WHERE id = ?'),
    // Delivered wins over a 'dead' set by deleting the destination while the send was in flight.
    markDelivered: p<{ destination_id: number; message_id: string }>(`UPDATE notifications
      SET state = 'delivered', attempts = attempts + 1, delivered_at = @at, last_status = @status, lease_until = 0
      WHERE id = @id AND state IN ('pending', 'dead') RETURNING destination_id, message_id`),
    markRetry: p(`UPDATE notifications
      SET attempts = attempts + 1, next_attempt_at = @nextAttemptAt, last_status = @status, lease_until = 0
      WHERE id = @id AND state = 'pending'`),
    markDead: p<{ destination_id: number; message_id: string }>(`UPDATE notifications
      SET state = 'dead', attempts = attempts + 1, last_status = @status, lease_until = 0
      WHERE id = @id AND state = 'pending' RETURNING destination_id, message_id`),
    listNotificationsByMessage: p<NotificationListRow>(`SELECT ${NOTIFICATION_LIST_COLS}
      FROM notifications n JOIN events e ON e.id = n.event_rowid
      WHERE n.message_id = @messageId AND (@destinationId IS NULL OR n.destination_id = @destinationId)
        AND ${NOTIFICATION_FILTERS} ORDER BY n.id LIMIT @limit`),
    listNotificationsByDestination: p<NotificationListRow>(`SELECT ${NOTIFICATION_LIST_COLS}
      FROM notifications n JOIN events e ON e.id = n.event_rowid
      WHERE n.destination_id = @destinationId AND ${NOTIFICATION_FILTERS} ORDER BY n.id LIMIT @limit`),
    listNotificationsAll: p<NotificationListRow>(`SELECT ${NOTIFICATION_LIST_COLS}
      FROM notifications n JOIN events e ON e.id = n.event_rowid
      WHERE ${NOTIFICATION_FILTERS} ORDER BY n.id LIMIT @limit`),
    // Replay never revives rows of a deleted destination: nobody would send them.
    replay: p(`UPDATE notifications
      SET state = CASE WHEN state = 'waiting' THEN 'waiting' ELSE 'pending' END,
        attempts = 0, next_attempt_at = @now, lease_until = 0, delivered_at = NULL
      WHERE destination_id = @destinationId
        AND ((state = 'dead' AND @dead = 1) OR (state = 'delivered' AND @delivered = 1)
          OR (state IN ('pending', 'waiting') AND @pending = 1))
        AND (@since IS NULL OR created_at >= @since) AND (@until IS NULL OR created_at < @until)
        AND EXISTS (SELECT 1 FROM destinations d WHERE d.id = @destinationId AND d.deleted_at IS NULL)`),
    nextNotificationDue: p<{ t: number | null }>(`SELECT MIN(next_attempt_at) AS t FROM notifications
      WHERE destination_id = ? AND state = 'pending'`),
    destinationsWithPending: p<{ id: number }>(`SELECT d.id FROM destinations d WHERE EXISTS (
        SELECT 1 FROM notifications n WHERE n.destination_id = d.id AND n.state = 'pending' AND n.next_attempt_at <= ?)
      ORDER BY d.id LIMIT ${LIST_CAP}`),

    // ---- metrics ----
    counts: p<Record<string, number>>(`SELECT
      (SELECT COUNT(*) FROM messages) AS messages,
      (SELECT COUNT(*) FROM events) AS events,
      (SELECT COUNT(*) FROM outbound WHERE state = 'pending') AS outboundPending,
      (SELECT COUNT(*) FROM notifications WHERE state IN ('pending', 'waiting')) AS notificationsPending,
      (SELECT COUNT(*) FROM notifications WHERE state = 'dead') AS notificationsDead,
      (SELECT COUNT(*) FROM notifications WHERE state = 'delivered') AS notificationsDelivered,
      (SELECT COUNT(*) FROM identities) AS identities,
      (SELECT COUNT(*) FROM config_sets) AS configSets,
      (SELECT COUNT(*) FROM destinations WHERE deleted_at IS NULL) AS destinations,
      (SELECT COUNT(*) FROM access_keys WHERE revoked_at IS NULL) AS accessKeys`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** INSERT of Open events from JSON arrays [[message_id, seq, at, ip_address, user_agent], ...]
 *  found in `source` (as e), ordered by `batch` and then position. */
function openEventsFrom(source: string, batch: string): string {
  return `WITH o AS (
      SELECT ${batch} AS batch, e.key AS pos, e.value ->> 0 AS message_id, e.value ->> 1 AS seq,
        e.value ->> 2 AS at, e.value ->> 3 AS ip_address, e.value ->> 4 AS user_agent
      FROM ${source})
    INSERT INTO events (message_id, seq, kind, at, detail)
    SELECT message_id, seq, 'Open', at, json_object('ipAddress', ip_address,
      'timestamp', strftime('%Y-%m-%dT%H:%M:%S', at / 1000, 'unixepoch') || '.' || substr('00' || (at % 1000), -3) || 'Z',
      'userAgent', user_agent)
    FROM o ORDER BY batch, pos`;
}
