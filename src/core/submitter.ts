// The send pipeline shared by the API and SMTP front ends (DESIGN.md "Data flow"): checks
// limits, identity and configuration set, assigns the MessageId, injects the pixel when the
// message is trackable, and stores message + outbound rows + Send event in one transaction.
// Trusts the front end's authentication only; every byte and field of the request is client
// input. Nothing is relayed from here: the delivery worker reads the outbound queue.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { injectPixel, prependHeaders, readHeaders, removeHeaders } from '../mime/index.js';
import type { ConfigSet, DestinationSnapshot, NewMessage, Store } from '../store/port.js';
import { domainOf, normaliseAddress } from './addresses.js';
import { findIdentity, resolveIdentity } from './identity.js';
import { buildMailObject, unfold, type RawHeader } from './mail-object.js';
import { checkTags, parseTagHeader, type Tag } from './tags.js';
import type { PixelUrlFor, SubmitRequest, SubmitResult, Submitter } from './types.js';

export interface SubmitterDeps {
  store: Store;
  config: Pick<Config, 'maxMessageBytes' | 'maxRecipients'>;
  pixelUrlFor: PixelUrlFor;
  now?: () => number;
  /** Must return a lower-case UUID: the tracking token embeds its 16 bytes. */
  newMessageId?: () => string;
}

/** Control headers SES reads and strips before sending (SES "Using message tags"). */
const CONFIG_SET_HEADER = 'X-SES-CONFIGURATION-SET';
const TAGS_HEADER = 'X-SES-MESSAGE-TAGS';
/** Bcc must not travel: every recipient gets the same bytes (Postfix cleanup strips it too). */
const BCC_HEADER = 'BCC';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** RFC 5322 3.3 date-time in UTC. */
function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

function headerValue(headers: RawHeader[], upperName: string): string | undefined {
  const h = headers.find((x) => x.name.toUpperCase() === upperName);
  return h === undefined ? undefined : unfold(h.value);
}

function mimeFailure(e: unknown): GatewayError {
  if (isGatewayError(e)) return e;
  return new GatewayError('MessageRejected', `The message could not be read as MIME: ${(e as Error)?.message ?? String(e)}`);
}

export function createSubmitter(deps: SubmitterDeps): Submitter {
  const { store, config, pixelUrlFor } = deps;
  const now = deps.now ?? Date.now;
  const newMessageId = deps.newMessageId ?? randomUUID;

  async function resolveSet(name: string, boundTo?: string): Promise<ConfigSet> {
    const set = await store.getConfigSet(name);
    if (!set) {
      throw new GatewayError('ConfigurationSetDoesNotExist', boundTo
        ? `Configuration set ${name} (the default of identity ${boundTo}) does not exist.`
        : `Configuration set ${name} does not exist.`);
    }
    if (set.options.SendingOptions?.SendingEnabled === false) {
      throw new GatewayError('SendingPaused', `Sending is paused for configuration set ${name}.`);
    }
    return set;
  }

  async function submit(req: SubmitRequest): Promise<SubmitResult> {
    if (!Buffer.isBuffer(req.raw) || req.raw.length === 0) throw new GatewayError('BadRequest', 'The message is empty.');
    if (req.raw.length > config.maxMessageBytes) {
      throw new GatewayError('MessageTooLarge', `Message length is ${req.raw.length} bytes; the limit is ${config.maxMessageBytes} bytes.`);
    }

    // Envelope: normalised, deduplicated (a repeated RCPT would be delivered twice).
    if (!Array.isArray(req.recipients) || req.recipients.length === 0) throw new GatewayError('NoRecipients', 'The message has no recipients.');
    const recipients: string[] = [];
    const seen = new Set<string>();
    for (const r of req.recipients) {
      let addr: string;
      try {
        addr = normaliseAddress(String(r), 'Recipient');
      } catch (e) {
        throw new GatewayError('BadRequest', `Invalid recipient: ${(e as Error).message}`);
      }
      const key = addr.toLowerCase();
      if (!seen.has(key)) {
        seen.add(key);
        recipients.push(addr);
      }
    }
    if (recipients.length > config.maxRecipients) {
      throw new GatewayError('TooManyRecipients', `The message has ${recipients.length} recipients; the limit is ${config.maxRecipients}.`);
    }
    let mailFrom: string;
    try {
      mailFrom = normaliseAddress(String(req.mailFrom ?? ''), 'Sender');
    } catch (e) {
      throw new GatewayError('BadRequest', `Invalid sender: ${(e as Error).message}`);
    }

    const identity = await resolveIdentity(store, mailFrom);
    if (!identity) {
      throw new GatewayError('MailFromDomainNotVerified',
        `Email address is not verified. The following identities failed the check: ${mailFrom} (add its domain with "mailbeacon identities add" or CreateEmailIdentity)`);
    }

    let headers: RawHeader[];
    try {
      headers = await readHeaders(req.raw);
    } catch (e) {
      throw mimeFailure(e);
    }

    // Configuration set: header, then API field, then the identity's default (SES order).
    const named = headerValue(headers, CONFIG_SET_HEADER) || (req.configSetName ? String(req.configSetName).trim() : '');
    const set = named ? await resolveSet(named)
      : identity.configurationSetName ? await resolveSet(identity.configurationSetName, identity.name) : null;

    if (req.tags != null && !Array.isArray(req.tags)) throw new GatewayError('BadRequest', 'EmailTags must be a list of {Name, Value}.');
    const userTags: Tag[] = [...(req.tags ?? [])];
    checkTags(userTags);
    const tagHeader = headerValue(headers, TAGS_HEADER);
    if (tagHeader !== undefined) {
      const fromHeader = parseTagHeader(tagHeader);
      checkTags(fromHeader);
      userTags.push(...fromHeader);
    }
    checkTags(userTags); // the combined count stays bounded too
    const tags: Record<string, string[]> = {};
    if (set) tags['ses:configuration-set'] = [set.name];
    tags['ses:from-domain'] = [domainOf(mailFrom)];
    if (req.callerIdentity) tags['ses:caller-identity'] = [req.callerIdentity];
    for (const t of userTags) {
      const values = (tags[t.Name] ??= []);
      if (!values.includes(t.Value)) values.push(t.Value);
    }

    const messageId = newMessageId();
    if (!UUID_RE.test(messageId)) throw new GatewayError('Internal');
    const acceptedAt = now();

    // Header edits: strip the control headers and Bcc, add Message-ID/Date when missing.
    let raw = req.raw;
    try {
      // The names as spelled in the message, in case the splicer compares them exactly.
      const strip = [...new Set(headers.map((h) => h.name)
        .filter((n) => [CONFIG_SET_HEADER, TAGS_HEADER, BCC_HEADER].includes(n.toUpperCase())))];
      if (strip.length) raw = await removeHeaders(raw, strip);
      const add: [string, string][] = [];
      const idDomain = identity.name.includes('@') ? domainOf(identity.name) : identity.name;
      if (headerValue(headers, 'MESSAGE-ID') === undefined) add.push(['Message-ID', `<${messageId}@${idDomain}>`]);
      if (headerValue(headers, 'DATE') === undefined) add.push(['Date', rfc5322Date(acceptedAt)]);
      if (add.length) raw = await prependHeaders(raw, add);
    } catch (e) {
      throw mimeFailure(e);
    }
    let finalHeaders: RawHeader[];
    try {
      finalHeaders = raw === req.raw ? headers : await readHeaders(raw);
    } catch (e) {
      throw mimeFailure(e);
    }

    // Tracking decision (DESIGN.md 1-3): OPEN subscription, one recipient, an HTML part.
    const destinations = set ? (await store.listDestinations(set.name)).filter((d) => d.enabled) : [];
    let tracked = false;
    let injectOutcome: string;
    if (!set) injectOutcome = 'no-configuration-set';
    else if (!destinations.some((d) => d.matchingEventTypes.includes('OPEN'))) injectOutcome = 'no-open-subscription';
    else if (recipients.length !== 1) injectOutcome = 'multiple-recipients';
    else {
      try {
        const r = await injectPixel(raw, pixelUrlFor(messageId));
        if (r.injected) {
          raw = r.output;
          tracked = true;
          injectOutcome = 'injected';
        } else {
          injectOutcome = r.reason ?? 'not-injected';
        }
      } catch {
        // A rewrite bug must not lose the message: it goes out untracked, byte-identical.
        injectOutcome = 'inject-failed';
      }
    }

    // commonHeaders keep Bcc (SES reports it); the headers list shows what is relayed.
    const mail = buildMailObject({
      acceptedAt, messageId, mailFrom, identity: identity.name, recipients,
      headers: finalHeaders, tags,
    });
    const bcc = headers.filter((h) => h.name.toUpperCase() === BCC_HEADER);
    if (bcc.length) {
      const withBcc = buildMailObject({ acceptedAt, messageId, mailFrom, identity: identity.name, recipients, headers: bcc, tags });
      (mail.commonHeaders as Record<string, unknown>).bcc = (withBcc.commonHeaders as Record<string, unknown>).bcc;
    }

    const msg: NewMessage = {
      id: messageId,
      acceptedAt,
      identity: identity.name,
      mailFrom,
      configSetName: set?.name ?? null,
      recipients,
      tracked,
      injectOutcome,
      mail,
      raw,
      deliveryOptions: { ...(set?.options.DeliveryOptions ?? {}) },
    };
    const snapshot: DestinationSnapshot[] = destinations.map((d) => ({ destinationId: d.id, eventTypes: [...d.matchingEventTypes] }));
    try {
      await store.acceptMessage(msg, snapshot, [{ kind: 'Send', at: acceptedAt, detail: {} }]);
    } catch (e) {
      const err = new GatewayError('Internal');
      (err as Error & { cause?: unknown }).cause = e;
      throw err;
    }
    return { messageId, tracked, injectOutcome };
  }

  return {
    submit,
    findIdentity: (address: string) => findIdentity(store, address),
  };
}
