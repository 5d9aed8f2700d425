// The notification JSON (Yandex Cloud Postbox / Amazon SES event publishing format).
// A stored event is rendered the same way every time it is sent, so a redelivered
// notification is byte-for-byte the same document with the same eventId.
import type { EventKind, StoredEvent } from '../store/port.js';
import { classifyOpen } from './open-client.js';

/** Key of the type-specific block: Send -> "send", DeliveryDelay -> "deliveryDelay". */
export function detailKey(kind: EventKind): string {
  return kind.charAt(0).toLowerCase() + kind.slice(1);
}

export function eventId(messageId: string, seq: number): string {
  return `${messageId}:${seq}`;
}

export interface Notification {
  eventType: EventKind;
  eventId: string;
  mail: Record<string, unknown>;
  [detail: string]: unknown;
}

export function renderEvent(event: StoredEvent, mail: Record<string, unknown>): Notification {
  return {
    eventType: event.kind,
    eventId: event.eventId,
    mail,
    [detailKey(event.kind)]: event.kind === 'Open' ? withClient(event.detail) : event.detail,
  };
}

/** An Open's detail plus mailbeacon's reading of its agent (extra fields; Postbox's stay first). */
function withClient(detail: Record<string, unknown>): Record<string, unknown> {
  const ua = typeof detail.userAgent === 'string' ? detail.userAgent : '';
  return { ...detail, ...classifyOpen(ua) };
}

/** RFC 3339 with milliseconds, UTC, as SES writes timestamps. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
