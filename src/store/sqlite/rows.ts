// Row shapes of the SQLite tables and their mapping to the port's types, plus the
// opaque pagination tokens. JSON columns were written by this adapter, so they are
// parsed without further checks; page tokens come from clients and are checked.
import { eventId } from '../../events/model.js';
import type {
  AccessKey, ConfigSet, Destination, DestinationKind, EventKind, Identity, MatchingEventType,
  MessageStatus, NotificationJob, NotificationRow, OutboundJob, NotificationState, OutboundState, StoredEvent, StoredMessage,
} from '../port.js';
import type { ClaimNotificationRow, ClaimOutboundRow } from './statements.js';

export interface AccessKeyRow { id: string; secret: string; name: string; created_at: number; revoked_at: number | null }
export interface IdentityRow { name: string; created_at: number; config_set: string | null }
export interface ConfigSetRow { name: string; created_at: number; options: string }
export interface DestinationRow {
  id: number; config_set: string; name: string; enabled: number; types: string; kind: string;
  settings: string; disabled_reason: string | null; created_at: number;
}
export interface MessageRow {
  id: string; accepted_at: number; identity: string; mail_from: string; config_set: string | null;
  recipients: string; tracked: number; inject_outcome: string; mail: string; delivery_options: string;
  size: number; status: string; open_count: number;
}
export interface EventRow { message_id: string; seq: number; kind: string; at: number; detail: string }
export interface OutboundListRow { recipient: string; state: string; attempts: number; last_error: string | null; next_attempt_at: number }
export interface NotificationListRow {
  id: number; destination_id: number; message_id: string; seq: number; kind: string; state: string;
  attempts: number; next_attempt_at: number; last_status: string | null; created_at: number; delivered_at: number | null;
}

export const toAccessKey = (r: AccessKeyRow): AccessKey => ({
  id: r.id, secret: r.secret, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at,
});

export const toIdentity = (r: IdentityRow): Identity => ({
  name: r.name, createdAt: r.created_at, configurationSetName: r.config_set,
});

export const toConfigSet = (r: ConfigSetRow): ConfigSet => ({
  name: r.name, createdAt: r.created_at, options: JSON.parse(r.options) as ConfigSet['options'],
});

export const toDestination = (r: DestinationRow): Destination => ({
  id: r.id,
  configSetName: r.config_set,
  name: r.name,
  enabled: r.enabled === 1,
  matchingEventTypes: JSON.parse(r.types) as MatchingEventType[],
  kind: r.kind as DestinationKind,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at,
});

export const toMessage = (r: MessageRow): StoredMessage => ({
  id: r.id,
  acceptedAt: r.accepted_at,
  identity: r.identity,
  mailFrom: r.mail_from,
  configSetName: r.config_set,
  recipients: JSON.parse(r.recipients) as string[],
  tracked: r.tracked === 1,
  injectOutcome: r.inject_outcome,
  mail: JSON.parse(r.mail) as Record<string, unknown>,
  deliveryOptions: JSON.parse(r.delivery_options) as StoredMessage['deliveryOptions'],
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
  detail: JSON.parse(r.detail) as Record<string, unknown>,
});

export const toOutboundListItem = (r: OutboundListRow) => ({
  recipient: r.recipient,
  state: r.state as OutboundState,
  attempts: r.attempts,
  lastError: r.last_error,
  nextAttemptAt: r.next_attempt_at,
});

export const toNotificationRow = (r: NotificationListRow): NotificationRow => ({
  id: r.id,
  destinationId: r.destination_id,
  eventId: eventId(r.message_id, r.seq),
  messageId: r.message_id,
  kind: r.kind as EventKind,
  // 'waiting' (queued behind an earlier row of its message) is internal: to callers it is pending.
  state: (r.state === 'waiting' ? 'pending' : r.state) as NotificationState,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatus: r.last_status,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

export const toOutboundJob = (r: ClaimOutboundRow): OutboundJob => ({
  id: r.id,
  messageId: r.message_id,
  recipient: r.recipient,
  attempts: r.attempts,
  firstFailureAt: r.first_failure_at,
  delayEmitted: r.delay_emitted === 1,
  acceptedAt: r.accepted_at,
  mailFrom: r.mail_from,
  deliveryOptions: JSON.parse(r.delivery_options) as OutboundJob['deliveryOptions'],
});

export const toNotificationJob = (r: ClaimNotificationRow): NotificationJob => ({
  id: r.id,
  destinationId: r.destination_id,
  event: toEvent(r),
  mail: JSON.parse(r.mail) as Record<string, unknown>,
  attempts: r.attempts,
  createdAt: r.created_at,
});
