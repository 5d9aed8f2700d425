// Event destinations ("subscriptions") of a configuration set, SES v2 paths
// /v2/email/configuration-sets/{name}/event-destinations[/{dest}]. Accepts both the AWS shape
// (MatchingEventTypes inside EventDestination) and Yandex Cloud Postbox's (beside it).
// Kinds: KinesisFirehoseDestination (Postbox's stream form), our WebhookDestination{Url,
// SigningSecret?}, and other SES kinds stored as given (kind 'other').
import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { GatewayError } from '../errors.js';
import { EVENT_TYPES, type Destination, type DestinationKind, type MatchingEventType } from '../store/port.js';
import type { RouteContext, RouteResult } from './router.js';
import { type Json, checkName, isObj, optBool, optObj, optStr, reqStr } from './validate.js';

function bad(msg: string): never {
  throw new GatewayError('BadRequest', msg);
}

const OTHER_KINDS = ['CloudWatchDestination', 'SnsDestination', 'PinpointDestination', 'EventBridgeDestination'] as const;
const KIND_KEYS = ['KinesisFirehoseDestination', 'WebhookDestination', ...OTHER_KINDS] as const;

/** Standard Webhooks secrets are "whsec_" + base64; 24 random bytes = 192 bits. */
export function generateSigningSecret(): string {
  return 'whsec_' + randomBytes(24).toString('base64');
}

function matchingTypes(v: unknown, path: string): MatchingEventType[] {
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) bad(`${path} must be a non-empty list of event types.`);
  const out = new Set<MatchingEventType>();
  for (const x of v as string[]) {
    const t = x.toUpperCase();
    if (!(EVENT_TYPES as readonly string[]).includes(t)) bad(`${path}: "${x.slice(0, 40)}" is not an event type (${EVENT_TYPES.join(', ')}).`);
    out.add(t as MatchingEventType);
  }
  return [...out];
}

/** Refuses webhook targets that are literally loopback/private unless the operator allowed it
 *  (SSRF guard at the door; the dispatcher re-checks resolved addresses when it sends). */
export function checkWebhookUrl(url: string, allowPrivate: boolean): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    bad('WebhookDestination.Url is not a valid URL.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') bad('WebhookDestination.Url must be http:// or https://.');
  if (u.username || u.password) bad('WebhookDestination.Url must not carry credentials; use SigningSecret.');
  if (!allowPrivate) {
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const isLocalName = host === 'localhost' || host.endsWith('.localhost');
    const isPrivateIp = ipaddr.isValid(host) && ipaddr.process(host).range() !== 'unicast';
    if (isLocalName || isPrivateIp) bad('WebhookDestination.Url points to a private or loopback address (set MAILBEACON_ALLOW_PRIVATE_WEBHOOKS=true to allow).');
  }
  return u.toString();
}

interface Definition { enabled?: boolean; types?: MatchingEventType[]; kind?: DestinationKind; settings?: Record<string, unknown> }

function parseDefinition(body: Json, ctx: RouteContext, previous?: Destination): Definition {
  const ed = optObj(body, 'EventDestination', '') ?? {};
  const def: Definition = {};
  def.enabled = optBool(ed, 'Enabled', 'EventDestination.') ?? optBool(body, 'Enabled', '');
  const inner = ed.MatchingEventTypes;
  const beside = body.MatchingEventTypes; // Postbox puts it next to EventDestination
  if (inner !== undefined && inner !== null) def.types = matchingTypes(inner, 'EventDestination.MatchingEventTypes');
  else if (beside !== undefined && beside !== null) def.types = matchingTypes(beside, 'MatchingEventTypes');

  const present = KIND_KEYS.filter((k) => ed[k] !== undefined && ed[k] !== null);
  if (present.length > 1) bad('EventDestination must hold exactly one destination kind.');
  const k = present[0];
  if (k === undefined) return def;
  const block = ed[k];
  if (!isObj(block)) bad(`EventDestination.${k} must be an object.`);
  const p = `EventDestination.${k}.`;
  if (k === 'KinesisFirehoseDestination') {
    def.kind = 'kinesis';
    def.settings = { DeliveryStreamArn: reqStr(block, 'DeliveryStreamArn', p), IamRoleArn: optStr(block, 'IamRoleArn', p) ?? '' };
  } else if (k === 'WebhookDestination') {
    def.kind = 'webhook';
    const url = checkWebhookUrl(reqStr(block, 'Url', p), ctx.config.allowPrivateWebhooks);
    const given = optStr(block, 'SigningSecret', p);
    if (given !== undefined && !/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(given)) bad(`${p}SigningSecret must be "whsec_" followed by base64 of at least 12 bytes.`);
    // An update that leaves the secret out keeps the one receivers already verify with.
    const kept = previous?.kind === 'webhook' && typeof previous.settings.SigningSecret === 'string' ? previous.settings.SigningSecret : undefined;
    def.settings = { Url: url, SigningSecret: given ?? kept ?? generateSigningSecret() };
  } else {
    def.kind = 'other';
    def.settings = { [k]: block };
  }
  return def;
}

/** The SES GetConfigurationSetEventDestinations entry, plus our Id / DisabledReason. */
export function renderDestination(d: Destination): Json {
  const out: Json = { Name: d.name, Enabled: d.enabled, MatchingEventTypes: d.matchingEventTypes, Id: d.id };
  if (d.kind === 'kinesis') out.KinesisFirehoseDestination = d.settings;
  else if (d.kind === 'webhook') out.WebhookDestination = d.settings;
  else Object.assign(out, d.settings);
  if (d.disabledReason) out.DisabledReason = d.disabledReason;
  return out;
}

async function mustSet(ctx: RouteContext): Promise<string> {
  const name = ctx.params.name!;
  if (!(await ctx.store.getConfigSet(name))) throw new GatewayError('NotFound', `Configuration set ${name.slice(0, 100)} does not exist.`);
  return name;
}

export async function createEventDestination(ctx: RouteContext): Promise<RouteResult> {
  const setName = await mustSet(ctx);
  const name = checkName('EventDestinationName', reqStr(ctx.body, 'EventDestinationName', ''));
  if (!isObj(ctx.body.EventDestination)) bad('EventDestination is required.');
  const def = parseDefinition(ctx.body, ctx);
  if (!def.types) bad('MatchingEventTypes is required.');
  if (!def.kind) bad(`EventDestination needs one of ${KIND_KEYS.join(', ')}.`);
  if ((await ctx.store.listDestinations(setName)).some((d) => d.name === name)) {
    throw new GatewayError('AlreadyExists', `Event destination ${name} already exists in ${setName}.`);
  }
  await ctx.store.createDestination({
    configSetName: setName, name, enabled: def.enabled ?? true, matchingEventTypes: def.types,
    kind: def.kind, settings: def.settings!, disabledReason: null, createdAt: ctx.now(),
  });
  return { json: {} };
}

export async function getEventDestinations(ctx: RouteContext): Promise<RouteResult> {
  const setName = await mustSet(ctx);
  const list = await ctx.store.listDestinations(setName);
  return { json: { EventDestinations: list.map(renderDestination) } };
}

export async function updateEventDestination(ctx: RouteContext): Promise<RouteResult> {
  const setName = await mustSet(ctx);
  const name = ctx.params.dest!;
  const current = (await ctx.store.listDestinations(setName)).find((d) => d.name === name);
  if (!current) throw new GatewayError('NotFound', `Event destination ${name.slice(0, 100)} does not exist in ${setName}.`);
  if (!isObj(ctx.body.EventDestination)) bad('EventDestination is required.');
  const def = parseDefinition(ctx.body, ctx, current);
  const updated = await ctx.store.updateDestination(setName, name, {
    enabled: def.enabled ?? current.enabled,
    matchingEventTypes: def.types ?? current.matchingEventTypes,
    kind: def.kind ?? current.kind,
    settings: def.settings ?? current.settings,
  });
  if (!updated) throw new GatewayError('NotFound', `Event destination ${name.slice(0, 100)} does not exist in ${setName}.`);
  return { json: {} };
}

export async function deleteEventDestination(ctx: RouteContext): Promise<RouteResult> {
  const setName = await mustSet(ctx);
  const name = ctx.params.dest!;
  if (!(await ctx.store.deleteDestination(setName, name))) throw new GatewayError('NotFound', `Event destination ${name.slice(0, 100)} does not exist in ${setName}.`);
  return { json: {} };
}
