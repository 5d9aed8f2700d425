// Our extension under /v2/mailbeacon/ (same SigV4 auth and error shape as the SES API):
// message inspection (status, recipients, events rendered as notifications, opens, each
// notification's delivery state), the relayed bytes, dead letters, and replay.
// Read-only except replay, which only moves notification rows back to pending.
import { GatewayError } from '../errors.js';
import { renderEvent, rfc3339 } from '../events/model.js';
import type { Destination, NotificationRow, StoredMessage } from '../store/port.js';
import type { RouteContext, RouteResult } from './router.js';
import { optBool, optTime, pageSize } from './validate.js';

/** Upper bound of rows one inspection returns (a message with more is an outlier; bounded reads). */
const MAX_ROWS = 1000;

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : rfc3339(ms));

function summary(m: StoredMessage) {
  return {
    MessageId: m.id,
    Status: m.status,
    AcceptedAt: rfc3339(m.acceptedAt),
    Identity: m.identity,
    MailFrom: m.mailFrom,
    ConfigurationSetName: m.configSetName,
    Recipients: m.recipients,
    Size: m.size,
    Tracked: m.tracked,
    InjectOutcome: m.injectOutcome,
    OpenCount: m.openCount,
  };
}

function notification(n: NotificationRow) {
  return {
    Id: n.id, DestinationId: n.destinationId, EventId: n.eventId, MessageId: n.messageId, EventType: n.kind,
    State: n.state, Attempts: n.attempts, LastStatus: n.lastStatus,
    CreatedAt: iso(n.createdAt), NextAttemptAt: n.state === 'pending' ? iso(n.nextAttemptAt) : null, DeliveredAt: iso(n.deliveredAt),
  };
}

async function mustMessage(ctx: RouteContext): Promise<StoredMessage> {
  const id = ctx.params.id!;
  const m = await ctx.store.getMessage(id);
  if (!m) throw new GatewayError('NotFound', `Message ${id.slice(0, 100)} does not exist.`);
  return m;
}

export async function listMessages(ctx: RouteContext): Promise<RouteResult> {
  const size = pageSize(ctx.query.get('PageSize') ?? undefined, 'PageSize');
  const page = await ctx.store.listMessages(size, ctx.query.get('NextToken') || undefined);
  return { json: { Messages: page.items.map(summary), ...(page.nextToken ? { NextToken: page.nextToken } : {}) } };
}

export async function getMessage(ctx: RouteContext): Promise<RouteResult> {
  const m = await mustMessage(ctx);
  const [outbound, events, notes] = await Promise.all([
    ctx.store.listMessageOutbound(m.id),
    ctx.store.listMessageEvents(m.id),
    ctx.store.listNotifications({ messageId: m.id }, MAX_ROWS),
  ]);
  return {
    json: {
      ...summary(m),
      DeliveryOptions: m.deliveryOptions,
      Outbound: outbound.map((o) => ({
        EmailAddress: o.recipient, State: o.state, Attempts: o.attempts, LastError: o.lastError,
        NextAttemptAt: o.state === 'pending' ? iso(o.nextAttemptAt) : null,
      })),
      Events: events.map((e) => renderEvent(e, m.mail)),
      Opens: events.filter((e) => e.kind === 'Open').map((e) => ({ EventId: e.eventId, ...e.detail })),
      Notifications: notes.map(notification),
    },
  };
}

export async function getMessageRaw(ctx: RouteContext): Promise<RouteResult> {
  const m = await mustMessage(ctx);
  const raw = await ctx.store.getMessageRaw(m.id);
  if (!raw) throw new GatewayError('NotFound', `The bytes of message ${m.id} are no longer stored.`);
  return { bytes: raw, contentType: 'message/rfc822' };
}

/** "<id>" or "<set>/<name>" -> the destination. */
async function resolveDestination(ctx: RouteContext, ref: string): Promise<Destination> {
  let d: Destination | undefined;
  if (/^\d{1,15}$/.test(ref)) d = await ctx.store.getDestinationById(Number(ref));
  else {
    const i = ref.indexOf('/');
    if (i > 0) d = (await ctx.store.listDestinations(ref.slice(0, i))).find((x) => x.name === ref.slice(i + 1));
  }
  if (!d) throw new GatewayError('NotFound', `Event destination ${ref.slice(0, 100)} does not exist (give its Id or "set/name").`);
  return d;
}

export async function listDeadLetters(ctx: RouteContext): Promise<RouteResult> {
  const ref = ctx.query.get('Destination');
  const size = pageSize(ctx.query.get('PageSize') ?? undefined, 'PageSize');
  const dest = ref ? await resolveDestination(ctx, ref) : undefined;
  const rows = await ctx.store.listNotifications({ state: 'dead', ...(dest ? { destinationId: dest.id } : {}) }, size);
  return { json: { DeadLetters: rows.map(notification) } };
}

export async function replayDestination(ctx: RouteContext): Promise<RouteResult> {
  const dest = await resolveDestination(ctx, ctx.params.id!);
  const since = optTime(ctx.body, 'Since', '');
  const until = optTime(ctx.body, 'Until', '');
  if (since !== undefined && until !== undefined && since > until) throw new GatewayError('BadRequest', 'Since must not be after Until.');
  const includeDelivered = optBool(ctx.body, 'IncludeDelivered', '') ?? false;
  const count = await ctx.store.replayNotifications(dest.id, {
    ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
    states: includeDelivered ? ['dead', 'delivered'] : ['dead'],
  }, ctx.now());
  return { json: { DestinationId: dest.id, Replayed: count } };
}
