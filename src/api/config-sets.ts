// Configuration set operations of SES v2: create / get / list / delete and the PUT
// .../{delivery,tracking,reputation,suppression}-options and .../sending members.
// Options are validated here in SES shapes and stored as one JSON document (ConfigSetOptions).
import { GatewayError } from '../errors.js';
import type { ConfigSetOptions } from '../store/port.js';
import type { RouteContext, RouteResult } from './router.js';
import { type Json, checkName, isObj, optBool, optInt, optObj, optObjArray, optStr, optStrArray, pageSize, reqStr } from './validate.js';

function bad(msg: string): never {
  throw new GatewayError('BadRequest', msg);
}

export function deliveryOptions(o: Json, path: string): NonNullable<ConfigSetOptions['DeliveryOptions']> {
  const tls = optStr(o, 'TlsPolicy', path);
  if (tls !== undefined && tls !== 'REQUIRE' && tls !== 'OPTIONAL') bad(`${path}TlsPolicy must be REQUIRE or OPTIONAL.`);
  const pool = optStr(o, 'SendingPoolName', path);
  // SES allows 300..50400 s (5 min..14 h) for MaxDeliverySeconds.
  const max = optInt(o, 'MaxDeliverySeconds', path, 300, 50_400);
  return { ...(tls ? { TlsPolicy: tls } : {}), ...(pool !== undefined ? { SendingPoolName: pool } : {}), ...(max !== undefined ? { MaxDeliverySeconds: max } : {}) };
}

function trackingOptions(o: Json, path: string): NonNullable<ConfigSetOptions['TrackingOptions']> {
  const domain = optStr(o, 'CustomRedirectDomain', path);
  const https = optStr(o, 'HttpsPolicy', path);
  if (https !== undefined && !['REQUIRE', 'REQUIRE_OPEN_ONLY', 'OPTIONAL'].includes(https)) bad(`${path}HttpsPolicy must be REQUIRE, REQUIRE_OPEN_ONLY or OPTIONAL.`);
  return { ...(domain !== undefined ? { CustomRedirectDomain: domain } : {}), ...(https !== undefined ? { HttpsPolicy: https } : {}) };
}

function reputationOptions(o: Json, path: string): NonNullable<ConfigSetOptions['ReputationOptions']> {
  const en = optBool(o, 'ReputationMetricsEnabled', path);
  const fresh = optStr(o, 'LastFreshStart', path);
  return { ...(en !== undefined ? { ReputationMetricsEnabled: en } : {}), ...(fresh !== undefined ? { LastFreshStart: fresh } : {}) };
}

function sendingOptions(o: Json, path: string): NonNullable<ConfigSetOptions['SendingOptions']> {
  const en = optBool(o, 'SendingEnabled', path);
  return en !== undefined ? { SendingEnabled: en } : {};
}

const SUPPRESSION_REASONS = ['BOUNCE', 'COMPLAINT'];
function suppressionOptions(o: Json, path: string): NonNullable<ConfigSetOptions['SuppressionOptions']> {
  const r = optStrArray(o, 'SuppressedReasons', path);
  if (r?.some((x) => !SUPPRESSION_REASONS.includes(x))) bad(`${path}SuppressedReasons may hold only BOUNCE and COMPLAINT.`);
  return r !== undefined ? { SuppressedReasons: r } : {};
}

function tagList(list: Json[] | undefined, path: string): { Key: string; Value: string }[] | undefined {
  return list?.map((t, i) => ({ Key: reqStr(t, 'Key', `${path}[${i}].`), Value: optStr(t, 'Value', `${path}[${i}].`) ?? '' }));
}

async function mustGet(ctx: RouteContext, name: string) {
  const set = await ctx.store.getConfigSet(name);
  if (!set) throw new GatewayError('NotFound', `Configuration set ${name.slice(0, 100)} does not exist.`);
  return set;
}

export async function createConfigurationSet(ctx: RouteContext): Promise<RouteResult> {
  const b = ctx.body;
  const name = checkName('ConfigurationSetName', reqStr(b, 'ConfigurationSetName', ''));
  const options: ConfigSetOptions = {};
  const d = optObj(b, 'DeliveryOptions', ''); if (d) options.DeliveryOptions = deliveryOptions(d, 'DeliveryOptions.');
  const t = optObj(b, 'TrackingOptions', ''); if (t) options.TrackingOptions = trackingOptions(t, 'TrackingOptions.');
  const r = optObj(b, 'ReputationOptions', ''); if (r) options.ReputationOptions = reputationOptions(r, 'ReputationOptions.');
  const s = optObj(b, 'SendingOptions', ''); if (s) options.SendingOptions = sendingOptions(s, 'SendingOptions.');
  const u = optObj(b, 'SuppressionOptions', ''); if (u) options.SuppressionOptions = suppressionOptions(u, 'SuppressionOptions.');
  const tags = tagList(optObjArray(b, 'Tags', ''), 'Tags'); if (tags) options.Tags = tags;
  if (await ctx.store.getConfigSet(name)) throw new GatewayError('AlreadyExists', `Configuration set ${name} already exists.`);
  await ctx.store.createConfigSet({ name, createdAt: ctx.now(), options });
  return { json: {} };
}

export async function getConfigurationSet(ctx: RouteContext): Promise<RouteResult> {
  const set = await mustGet(ctx, ctx.params.name!);
  const o = set.options;
  return {
    json: {
      ConfigurationSetName: set.name,
      DeliveryOptions: o.DeliveryOptions ?? {},
      TrackingOptions: o.TrackingOptions,
      ReputationOptions: o.ReputationOptions ?? { ReputationMetricsEnabled: false },
      SendingOptions: o.SendingOptions ?? { SendingEnabled: true },
      SuppressionOptions: o.SuppressionOptions,
      Tags: o.Tags ?? [],
    },
  };
}

/** GET /v2/email/configuration-sets?NextToken&PageSize (older SDKs) and POST /v2/email/list-configuration-sets (newer). */
export async function listConfigurationSets(ctx: RouteContext): Promise<RouteResult> {
  const fromBody = isObj(ctx.body) && Object.keys(ctx.body).length > 0;
  const size = pageSize(fromBody ? ctx.body.PageSize : ctx.query.get('PageSize') ?? undefined, 'PageSize');
  const token = fromBody ? optStr(ctx.body, 'NextToken', '') : ctx.query.get('NextToken') ?? undefined;
  const page = await ctx.store.listConfigSets(size, token || undefined);
  return { json: { ConfigurationSets: page.items.map((s) => s.name), ...(page.nextToken ? { NextToken: page.nextToken } : {}) } };
}

export async function deleteConfigurationSet(ctx: RouteContext): Promise<RouteResult> {
  const name = ctx.params.name!;
  if (!(await ctx.store.deleteConfigSet(name))) throw new GatewayError('NotFound', `Configuration set ${name.slice(0, 100)} does not exist.`);
  return { json: {} };
}

type OptionKey = 'DeliveryOptions' | 'TrackingOptions' | 'ReputationOptions' | 'SendingOptions' | 'SuppressionOptions';

/** PUT .../{kind}: replaces one option block of the set, as SES does. */
export function putOptions(key: OptionKey) {
  return async (ctx: RouteContext): Promise<RouteResult> => {
    const set = await mustGet(ctx, ctx.params.name!);
    const b = ctx.body;
    const options: ConfigSetOptions = { ...set.options };
    switch (key) {
      case 'DeliveryOptions': options.DeliveryOptions = deliveryOptions(b, ''); break;
      case 'TrackingOptions': options.TrackingOptions = trackingOptions(b, ''); break;
      case 'ReputationOptions': options.ReputationOptions = { ...set.options.ReputationOptions, ...reputationOptions(b, '') }; break;
      case 'SendingOptions': options.SendingOptions = sendingOptions(b, ''); break;
      case 'SuppressionOptions': options.SuppressionOptions = suppressionOptions(b, ''); break;
    }
    if (!(await ctx.store.updateConfigSetOptions(set.name, options))) throw new GatewayError('NotFound', `Configuration set ${set.name} does not exist.`);
    return { json: {} };
  };
}
