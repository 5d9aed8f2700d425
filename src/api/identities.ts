// Email identities of SES v2 (/v2/email/identities): a domain or an address the gateway may
// send from. There is no DNS verification step here: an identity is verified for sending as
// soon as it exists (the operator who holds an access key vouches for it). Names are stored
// lower-case, as SES compares them.
import { GatewayError } from '../errors.js';
import type { Identity } from '../store/port.js';
import type { RouteContext, RouteResult } from './router.js';
import { optStr, pageSize, reqStr } from './validate.js';

const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const LOCAL_RE = /^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;

/** Normalises and checks an identity name; throws BadRequest when it is neither domain nor address. */
export function normaliseIdentity(raw: string): { name: string; type: 'DOMAIN' | 'EMAIL_ADDRESS' } {
  const name = raw.trim().toLowerCase();
  const at = name.lastIndexOf('@');
  if (at < 0) {
    if (!DOMAIN_RE.test(name)) throw new GatewayError('BadRequest', `EmailIdentity "${raw.slice(0, 100)}" is not a valid domain or email address.`);
    return { name, type: 'DOMAIN' };
  }
  if (!LOCAL_RE.test(name.slice(0, at)) || !DOMAIN_RE.test(name.slice(at + 1))) {
    throw new GatewayError('BadRequest', `EmailIdentity "${raw.slice(0, 100)}" is not a valid domain or email address.`);
  }
  return { name, type: 'EMAIL_ADDRESS' };
}

const typeOf = (name: string) => (name.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN');

/** DKIM is done (if at all) by the relay configuration, never per identity through this API. */
const DKIM = { SigningEnabled: false, Status: 'NOT_STARTED', Tokens: [] as string[], SigningAttributesOrigin: 'AWS_SES' };

async function mustGet(ctx: RouteContext): Promise<Identity> {
  const { name } = normaliseIdentity(ctx.params.id!);
  const id = await ctx.store.getIdentity(name);
  if (!id) throw new GatewayError('NotFound', `Email identity ${name} does not exist.`);
  return id;
}

async function mustSetExist(ctx: RouteContext, setName: string): Promise<void> {
  if (!(await ctx.store.getConfigSet(setName))) throw new GatewayError('NotFound', `Configuration set ${setName.slice(0, 100)} does not exist.`);
}

export async function createEmailIdentity(ctx: RouteContext): Promise<RouteResult> {
  const { name, type } = normaliseIdentity(reqStr(ctx.body, 'EmailIdentity', ''));
  const setName = optStr(ctx.body, 'ConfigurationSetName', '');
  if (setName) await mustSetExist(ctx, setName);
  if (await ctx.store.getIdentity(name)) throw new GatewayError('AlreadyExists', `Email identity ${name} already exists.`);
  await ctx.store.createIdentity({ name, createdAt: ctx.now(), configurationSetName: setName || null });
  return { json: { IdentityType: type, VerifiedForSendingStatus: true, DkimAttributes: DKIM } };
}

export async function getEmailIdentity(ctx: RouteContext): Promise<RouteResult> {
  const id = await mustGet(ctx);
  return {
    json: {
      IdentityType: typeOf(id.name),
      FeedbackForwardingStatus: false,
      VerifiedForSendingStatus: true,
      VerificationStatus: 'SUCCESS',
      DkimAttributes: DKIM,
      MailFromAttributes: { MailFromDomainStatus: 'NOT_STARTED', BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' },
      Policies: {},
      Tags: [],
      ...(id.configurationSetName ? { ConfigurationSetName: id.configurationSetName } : {}),
    },
  };
}

/** GET /v2/email/identities (older SDKs) and POST /v2/email/list-identities (newer). */
export async function listEmailIdentities(ctx: RouteContext): Promise<RouteResult> {
  const fromBody = Object.keys(ctx.body).length > 0;
  const size = pageSize(fromBody ? ctx.body.PageSize : ctx.query.get('PageSize') ?? undefined, 'PageSize');
  const token = fromBody ? optStr(ctx.body, 'NextToken', '') : ctx.query.get('NextToken') ?? undefined;
  const page = await ctx.store.listIdentities(size, token || undefined);
  return {
    json: {
      EmailIdentities: page.items.map((i) => ({ IdentityType: typeOf(i.name), IdentityName: i.name, SendingEnabled: true, VerificationStatus: 'SUCCESS' })),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    },
  };
}

export async function deleteEmailIdentity(ctx: RouteContext): Promise<RouteResult> {
  const { name } = normaliseIdentity(ctx.params.id!);
  if (!(await ctx.store.deleteIdentity(name))) throw new GatewayError('NotFound', `Email identity ${name} does not exist.`);
  return { json: {} };
}

/** PUT /v2/email/identities/{id}/configuration-set: bind (or, without a name, unbind) a default set. */
export async function putIdentityConfigurationSet(ctx: RouteContext): Promise<RouteResult> {
  const id = await mustGet(ctx);
  const setName = optStr(ctx.body, 'ConfigurationSetName', '');
  if (setName) await mustSetExist(ctx, setName);
  if (!(await ctx.store.setIdentityConfigSet(id.name, setName || null))) throw new GatewayError('NotFound', `Email identity ${id.name} does not exist.`);
  return { json: {} };
}
