// Row shapes of the PostgreSQL tables and their mapping to the port's types, plus the
// pagination tokens (same opaque format as the SQLite adapter, so a token survives a switch).
// json columns come back parsed and int8 as numbers (see pool.ts), written by this adapter,
// so they are mapped without further checks; page tokens come from clients and are checked.
import { eventId } from '../../events/model.js';
import type {
  AccessKey, ConfigSet, Destination, DestinationKind, EventKind, Identity, MatchingEventType,
  MessageStatus, NotificationRow, NotificationState, OutboundJob, OutboundState, StoredEvent, StoredMessage,
} from '../port.js';

export interface AccessKeyRow { id: string; secret: string; name: string; created_at: number; revoked_at: number | null }
export interface IdentityRow { name: string; created_at: number; config_set: string | null }
export interface ConfigSetRow { name: string; created_at: number; options: ConfigSet['options'] }
export interface DestinationRow {
  id: number; config_set: string; name: string; enabled: boolean; types: MatchingEventType[]; kind: string;
  settings: Record<string, unknown>; disabled_reason: string | null; created_at: number;
}
export interface MessageRow {
  id: string; accepted_at: number; identity: string; mail_from: string; config_set: string | null;
  recipients: string[]; tracked: boolean; inject_outcome: string; mail: Record<string, unknown>;
  delivery_options: StoredMessage['deliveryOptions']; size: number; status: string; open_count: number;
}
export interface EventRow { message_id: string; seq: number; kind: string; at: number; detail: Record<string, unknown> }
export interface OutboundListRow { recipient: string; state: string; attempts: number; last_error: string | null; next_attempt_at: number }
export interface NotificationListRow {
  id: number; destination_id: number; message_id: string; seq: number; kind: string; state: string;
  attempts: number; next_attempt_at: number; last_status: string | null; created_at: number; delivered_at: number | null;
}
export interface ClaimOutboundRow {
  id: number; message_id: string; recipient: string; attempts: number; first_failure_at: number | null;
  delay_emitted: boolean; accepted_at: number; mail_from: string; delivery_options: OutboundJob['deliveryOptions'];
}
export interface ClaimNotificationRow extends EventRow {
  id: number; destination_id: number; attempts: number; created_at: number; mail: Record<string, unknown>;
}


export const MESSAGE_COLS = `id, accepted_at, identity, mail_from, config_set, recipients, tracked, inject_outcome,
  mail, delivery_options, size, status, open_count`;

export const toAccessKey = (r: AccessKeyRow): AccessKey => ({
  id: r.id, secret: r.secret, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at,
});

export const toIdentity = (r: IdentityRow): Identity => ({
  name: r.name, createdAt: r.created_at, configurationSetName: r.config_set,
});

export const toConfigSet = (r: ConfigSetRow): ConfigSet => ({ name: r.name, createdAt: r.created_at, options: r.options });

export const toDestination = (r: DestinationRow): Destination => ({
  id: r.id,
  configSetName: r.config_set,
  name: r.name,
  enabled: r.enabled,
  matchingEventTypes: r.types,
  kind: r.kind as DestinationKind,
  settings: r.settings,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at,
});

export const toMessage = (r: MessageRow): StoredMessage => ({
  id: r.id,
  acceptedAt: r.accepted_at,
  identity: r.identity,
  mailFrom: r.mail_from,
  configSetName: r.config_set,
  recipients: r.recipients,
  tracked: r.tracked,
  injectOutcome: r.inject_outcome,
  mail: r.mail,
  deliveryOptions: r.delivery_options,
  status: r.status as MessageStatus,
  size: r.size,
  openCount: r.open_count,
});

export const toEvent = (r: EventRow): StoredEvent => ({
  messageId: r.message_id,
  seq: r.seq,
  eventId: eventId(r.message_id, r.seq),
  kind: r.kind as EventKind,
  at: r.at,
  detail: r.detail,
});

export const toOutboundListItem = (r: OutboundListRow) => ({
  recipient: r.recipient,
  state: r.state as OutboundState,
  attempts: r.attempts,
  lastError: r.last_error,
  nextAttemptAt: r.next_attempt_at,
});

export const toOutboundJob = (r: ClaimOutboundRow): OutboundJob => ({
  id: r.id, messageId: r.message_id, recipient: r.recipient, attempts: r.attempts,
  firstFailureAt: r.first_failure_at, delayEmitted: r.delay_emitted, acceptedAt: r.accepted_at,
  mailFrom: r.mail_from, deliveryOptions: r.delivery_options,
});

export const toNotificationRow = (r: NotificationListRow): NotificationRow => ({
  id: r.id,
  destinationId: r.destination_id,
  eventId: eventId(r.message_id, r.seq),
  messageId: r.message_id,
  kind: r.kind as EventKind,
  state: r.state as NotificationState,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatus: r.last_status,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});
