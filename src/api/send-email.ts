// SendEmail (POST /v2/email/outbound-emails), SES v2 request shape: validates the request,
// composes or unpacks the MIME message, then hands it to the Submitter, which resolves the
// configuration set, enforces identity/size/recipient rules and stores it durably.
// The MessageId is returned only after the Submitter resolved (the message is durable).
import { GatewayError } from '../errors.js';
import type { RouteContext, RouteResult } from './router.js';
import { type Json, optObj, optObjArray, optStr, optStrArray, reqObj, reqStr } from './validate.js';
import { composeRaw, composeSimple, composeTemplate, type ComposedMessage, type Envelope } from './compose.js';

/** SES message tag names and values: letters, digits, _ - . @ (we allow what SES documents). */
const TAG_RE = /^[A-Za-z0-9_.@-]{1,256}$/;

function tags(list: Json[] | undefined): { Name: string; Value: string }[] {
  return (list ?? []).map((t, i) => {
    const Name = reqStr(t, 'Name', `EmailTags[${i}].`);
    const Value = optStr(t, 'Value', `EmailTags[${i}].`) ?? '';
    if (!TAG_RE.test(Name)) throw new GatewayError('BadRequest', `EmailTags[${i}].Name may hold only letters, digits, _ - . @ (1-256).`);
    if (Value !== '' && !TAG_RE.test(Value)) throw new GatewayError('BadRequest', `EmailTags[${i}].Value may hold only letters, digits, _ - . @ (up to 256).`);
    return { Name, Value };
  });
}

export async function sendEmail(ctx: RouteContext): Promise<RouteResult> {
  const b = ctx.body;
  const content = reqObj(b, 'Content', '');
  const dest = optObj(b, 'Destination', '') ?? {};
  const env: Envelope = {
    from: optStr(b, 'FromEmailAddress', ''),
    to: optStrArray(dest, 'ToAddresses', 'Destination.') ?? [],
    cc: optStrArray(dest, 'CcAddresses', 'Destination.') ?? [],
    bcc: optStrArray(dest, 'BccAddresses', 'Destination.') ?? [],
    replyTo: optStrArray(b, 'ReplyToAddresses', '') ?? [],
  };
  const configSetName = optStr(b, 'ConfigurationSetName', '');
  const emailTags = tags(optObjArray(b, 'EmailTags', ''));

  const kinds = (['Simple', 'Raw', 'Template'] as const).filter((k) => content[k] !== undefined && content[k] !== null);
  if (kinds.length !== 1) throw new GatewayError('BadRequest', 'Content must hold exactly one of Simple, Raw or Template.');
  // Cheap early check so a 50-recipient limit is not discovered after composing 10 MB.
  const given = env.to.length + env.cc.length + env.bcc.length;
  if (given > ctx.config.maxRecipients) throw new GatewayError('TooManyRecipients', `A message may have at most ${ctx.config.maxRecipients} recipients.`);

  let msg: ComposedMessage;
  if (kinds[0] === 'Raw') msg = composeRaw(reqObj(content, 'Raw', 'Content.'), env);
  else if (kinds[0] === 'Simple') msg = await composeSimple(reqObj(content, 'Simple', 'Content.'), env);
  else msg = await composeTemplate(reqObj(content, 'Template', 'Content.'), env);

  if (msg.recipients.length === 0) throw new GatewayError('NoRecipients', 'The message has no recipients: give Destination or To/Cc/Bcc headers.');
  const result = await ctx.submitter.submit({
    raw: msg.raw,
    mailFrom: msg.mailFrom,
    recipients: msg.recipients,
    configSetName: configSetName || null,
    tags: emailTags,
    callerIdentity: ctx.caller.id,
    via: 'api',
  });
  return { json: { MessageId: result.messageId } };
}
