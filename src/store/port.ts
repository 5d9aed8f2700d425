// The store port: the one interface every stage talks to. Adapters (sqlite/, later
// postgres/) implement it; the same contract tests (store/contract.ts) run on each.
// Stages hand work to each other only through these durable tables (Postfix-style):
// accept -> outbound queue -> delivery worker; event log -> notification rows -> dispatcher.
//
// Rules every adapter keeps:
// - A method that returns has made its writes durable (committed). Nothing is half-written:
//   every method that writes several rows does so in one transaction.
// - Callers pass already-validated, normalised values (names checked, addresses lower-cased
//   where SES does so); the store checks only uniqueness and existence.
// - Times are milliseconds since the epoch (numbers), never Date objects or strings.
// - Every queue is read in bounded batches (`limit`), never "all rows".

/** SES v2 event types as they appear in MatchingEventTypes. */
export const EVENT_TYPES = [
  'SEND', 'REJECT', 'BOUNCE', 'COMPLAINT', 'DELIVERY', 'OPEN', 'CLICK',
  'RENDERING_FAILURE', 'DELIVERY_DELAY', 'SUBSCRIPTION',
] as const;
export type MatchingEventType = (typeof EVENT_TYPES)[number];

/** eventType as it appears in the notification JSON (Postbox/SES format). */
export type EventKind = 'Send' | 'Delivery' | 'Bounce' | 'DeliveryDelay' | 'Open' | 'Reject';

export const KIND_TO_MATCHING: Record<EventKind, MatchingEventType> = {
  Send: 'SEND', Delivery: 'DELIVERY', Bounce: 'BOUNCE', DeliveryDelay: 'DELIVERY_DELAY',
  Open: 'OPEN', Reject: 'REJECT',
};

export interface AccessKey {
  id: string;            // access key id (public)
  secret: string;        // secret access key (never logged)
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface Identity {
  name: string;          // domain ("example.com") or address ("a@example.com"), lower-case
  createdAt: number;
  configurationSetName: string | null; // default set bound with PUT .../configuration-set
}

/** Options a configuration set carries; stored as one JSON document, SES v2 shapes. */
export interface ConfigSetOptions {
  DeliveryOptions?: { TlsPolicy?: 'REQUIRE' | 'OPTIONAL'; SendingPoolName?: string; MaxDeliverySeconds?: number };
  TrackingOptions?: { CustomRedirectDomain?: string; HttpsPolicy?: string };
  ReputationOptions?: { ReputationMetricsEnabled?: boolean; LastFreshStart?: string };
  SendingOptions?: { SendingEnabled?: boolean };
  SuppressionOptions?: { SuppressedReasons?: string[] };
  Tags?: { Key: string; Value: string }[];
}

export interface ConfigSet {
  name: string;
  createdAt: number;
  options: ConfigSetOptions;
}

export type DestinationKind = 'webhook' | 'kinesis' | 'other';

/** An event destination ("subscription") of a configuration set. */
export interface Destination {
  id: number;            // store-assigned, stable
  configSetName: string;
  name: string;
  enabled: boolean;
  matchingEventTypes: MatchingEventType[];
  kind: DestinationKind;
  /** Kind-specific settings, SES shapes: webhook {Url, SigningSecret}; kinesis
   *  {DeliveryStreamArn, IamRoleArn}; other: the raw destination block kept as given. */
  settings: Record<string, unknown>;
  /** Why the gateway disabled it (e.g. "webhook answered 410"), null when the user did. */
  disabledReason: string | null;
  createdAt: number;
}

export type MessageStatus = 'queued' | 'sending' | 'delivered' | 'bounced' | 'delayed' | 'captured' | 'partial';

export interface NewMessage {
  id: string;                 // MessageId returned to the client
  acceptedAt: number;
  identity: string;           // sending identity (Identity.name that matched)
  mailFrom: string;           // envelope sender
  configSetName: string | null;
  recipients: string[];       // envelope recipients (To+Cc+Bcc), as given
  tracked: boolean;           // pixel injected
  injectOutcome: string;      // 'injected' | skip reason | 'not-requested' ...
  /** The `mail` object of every notification for this message (Postbox JSON), fixed at accept. */
  mail: Record<string, unknown>;
  raw: Buffer;                // final bytes to relay (after pixel, header removal)
  /** Set's TlsPolicy etc. as they were at accept time (settings are fixed then). */
  deliveryOptions: ConfigSetOptions['DeliveryOptions'] & Record<string, unknown>;
}

export interface StoredMessage extends Omit<NewMessage, 'raw'> {
  status: MessageStatus;
  size: number;
  openCount: number;
}

/** Snapshot of one subscription of the message's set, taken at accept time. */
export interface DestinationSnapshot {
  destinationId: number;
  eventTypes: MatchingEventType[];
}

export interface NewEvent {
  kind: EventKind;
  at: number;
  /** The type-specific block (`send`, `delivery`, `bounce`, `deliveryDelay`, `open`). */
  detail: Record<string, unknown>;
}

export interface StoredEvent extends NewEvent {
  messageId: string;
  seq: number;              // n in eventId "<messageId>:<n>", per message, from 1
  eventId: string;
}

/** One recipient of a message in the outbound queue. */
export type OutboundState = 'pending' | 'delivered' | 'bounced' | 'suppressed' | 'captured';

export interface OutboundJob {
  id: number;
  messageId: string;
  recipient: string;
  attempts: number;
  firstFailureAt: number | null;
  delayEmitted: boolean;
  acceptedAt: number;
  mailFrom: string;
  deliveryOptions: NewMessage['deliveryOptions'];
}

export interface OutboundOutcome {
  outboundId: number;
  /** 'retry' keeps it pending until nextAttemptAt; the others are final. */
  state: 'delivered' | 'bounced' | 'suppressed' | 'captured' | 'retry';
  nextAttemptAt?: number;
  lastError?: string | null;
  /** Set when this outcome emits the one DeliveryDelay of the recipient. */
  delayEmitted?: boolean;
  /** Events to append for the message in the same transaction (Delivery, Bounce, ...). */
  events: NewEvent[];
  /** When the attempt ended (first failure time on a retry/bounce); defaults to the first event's `at`, else now. */
  at?: number;
}

export interface OpenInput {
  messageId: string;
  at: number;
  ipAddress: string;
  userAgent: string;
}

export type NotificationState = 'pending' | 'delivered' | 'dead';

/** One event to be delivered to one destination (per-event delivery row). */
export interface NotificationJob {
  id: number;
  destinationId: number;
  event: StoredEvent;
  mail: Record<string, unknown>;
  attempts: number;
  createdAt: number;
}

export interface NotificationRow {
  id: number;
  destinationId: number;
  eventId: string;
  messageId: string;
  kind: EventKind;
  state: NotificationState;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface Page<T> { items: T[]; nextToken: string | null }

export interface Store {
  /** Creates tables if needed, runs migrations. Idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;

  // ---- access keys (API SigV4 and SMTP credentials) ----
  createAccessKey(key: AccessKey): Promise<void>;
  getAccessKey(id: string): Promise<AccessKey | undefined>;
  listAccessKeys(): Promise<AccessKey[]>;
  /** Returns false when no such key. */
  revokeAccessKey(id: string, at: number): Promise<boolean>;

  // ---- identities ----
  /** Throws StoreConflict when it exists. */
  createIdentity(identity: Identity): Promise<void>;
  getIdentity(name: string): Promise<Identity | undefined>;
  listIdentities(limit: number, nextToken?: string): Promise<Page<Identity>>;
  deleteIdentity(name: string): Promise<boolean>;
  /** Binds (or with null unbinds) a default set. Returns false when no identity. */
  setIdentityConfigSet(name: string, configSetName: string | null): Promise<boolean>;

  // ---- configuration sets and their destinations ----
  createConfigSet(set: ConfigSet): Promise<void>;           // StoreConflict if exists
  getConfigSet(name: string): Promise<ConfigSet | undefined>;
  listConfigSets(limit: number, nextToken?: string): Promise<Page<ConfigSet>>;
  updateConfigSetOptions(name: string, options: ConfigSetOptions): Promise<boolean>;
  /** Deletes the set and (soft-)deletes its destinations, as deleteDestination does. */
  deleteConfigSet(name: string): Promise<boolean>;

  createDestination(d: Omit<Destination, 'id'>): Promise<Destination>; // StoreConflict if name taken in set
  listDestinations(configSetName: string): Promise<Destination[]>;
  getDestinationById(id: number): Promise<Destination | undefined>;
  /** Replaces enabled/types/kind/settings; keeps id. Returns undefined when missing. */
  updateDestination(configSetName: string, name: string,
    patch: Pick<Destination, 'enabled' | 'matchingEventTypes' | 'kind' | 'settings'>): Promise<Destination | undefined>;
  /** Soft delete: gone from list/get, its pending notifications become 'dead' ("destination deleted"). */
  deleteDestination(configSetName: string, name: string): Promise<boolean>;
  /** Gateway-initiated disable (e.g. webhook 410). */
  disableDestination(id: number, reason: string): Promise<void>;
  /** Enabled destinations of every set that may have work (for the dispatcher), bounded. */
  listAllDestinations(): Promise<Destination[]>;

  // ---- messages and the outbound queue ----
  /**
   * One transaction: the message row with its raw bytes, one outbound row per recipient
   * (state 'pending', due now; the delivery worker relays, simulates or captures), the destination
   * snapshot, and the given events (typically Send) with their notification rows.
   * Durable when it returns; only then may the MessageId be handed out.
   */
  acceptMessage(msg: NewMessage, snapshot: DestinationSnapshot[], events: NewEvent[]): Promise<StoredEvent[]>;
  getMessage(id: string): Promise<StoredMessage | undefined>;
  getMessageRaw(id: string): Promise<Buffer | undefined>;
  listMessages(limit: number, nextToken?: string): Promise<Page<StoredMessage>>;
  listMessageEvents(id: string): Promise<StoredEvent[]>;
  listMessageOutbound(id: string): Promise<{ recipient: string; state: OutboundState; attempts: number; lastError: string | null; nextAttemptAt: number }[]>;

  /**
   * Leases up to `limit` pending outbound rows due at `now` (ordered by due time) for
   * `leaseMs`: a leased row is not handed out again until the lease ends, so a crashed
   * worker's rows come back by themselves.
   */
  claimOutbound(now: number, limit: number, leaseMs: number): Promise<OutboundJob[]>;
  /** Applies outcomes, appends their events (+ notification rows) and updates message status, one transaction. */
  completeOutbound(outcomes: OutboundOutcome[]): Promise<void>;

  // ---- events and notifications ----
  /** Appends events for a message (seq assigned), creating notification rows per snapshot.
   *  Fan-out (here, in acceptMessage, completeOutbound and recordOpens) skips snapshot
   *  destinations that are deleted or disabled at the time of the event. */
  appendEvents(messageId: string, events: NewEvent[]): Promise<StoredEvent[]>;
  /**
   * Records a batch of opens in ONE transaction (group commit): per open, the Open event
   * (detail = {ipAddress, timestamp, userAgent}) and its notifications, one per snapshot
   * destination matching OPEN; bumps the message's openCount. An adapter may commit the
   * event alone as the durable record of its notifications and make their rows later, as
   * long as every notification read or change sees them (SQLite does: its fan-out cursor).
   * Opens of unknown messages record nothing. Returns, per input, the event seq or null.
   */
  recordOpens(opens: OpenInput[]): Promise<(number | null)[]>;

  /**
   * Due pending notifications of one destination, oldest first, at most one per message
   * (the earliest pending of that message), so a message's events stay in order.
   */
  claimNotifications(destinationId: number, now: number, limit: number, leaseMs: number): Promise<NotificationJob[]>;
  markNotificationDelivered(id: number, at: number, status: string): Promise<void>;
  markNotificationRetry(id: number, nextAttemptAt: number, status: string): Promise<void>;
  markNotificationDead(id: number, at: number, status: string): Promise<void>;
  /** Ordered by id (creation order). since/until bound createdAt (= the event's `at`): since <= t < until. */
  listNotifications(filter: { destinationId?: number; messageId?: string; state?: NotificationState; since?: number; until?: number },
    limit: number): Promise<NotificationRow[]>;
  /** Sets matching notifications (dead, and delivered ones in range) back to pending now. Returns the count.
   *  Same time range rule as listNotifications; rows of a deleted destination are never revived. */
  replayNotifications(destinationId: number, filter: { since?: number; until?: number; states: NotificationState[] }, now: number): Promise<number>;
  /** Earliest nextAttemptAt among pending notifications of a destination, for scheduling. */
  nextNotificationDue(destinationId: number): Promise<number | null>;
  /** Destinations that have pending notifications due at `now` (includes ones whose set was deleted). */
  destinationsWithPending(now: number): Promise<number[]>;

  // ---- metrics/health ----
  counts(): Promise<Record<string, number>>;
}

/** Thrown by create* when the unique name already exists. */
export class StoreConflict extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'StoreConflict';
  }
}
