// Turns a SendEmail Content block into the MIME bytes and envelope the Submitter takes.
// Simple and Template messages are composed by nodemailer's MailComposer (it owns encodings,
// charsets and header folding); Raw messages pass through byte-for-byte, we only read their
// headers to find the envelope when the request does not give it (SES behaviour).
// Trusts nothing in the request: header names/values and addresses are checked here.
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import libmime from 'libmime';
import { GatewayError } from '../errors.js';
import { type Json, optObj, optObjArray, optStr, reqObj, reqStr } from './validate.js';
import { parseTemplateData, renderTemplate } from './template.js';

export interface ComposedMessage { raw: Buffer; mailFrom: string; recipients: string[] }

export interface Envelope {
  from?: string;          // FromEmailAddress as given (may be "Name <a@b>")
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
}

function bad(msg: string): never {
  throw new GatewayError('BadRequest', msg);
}

/** Bare addresses of an address list ("Name <a@b>, c@d" -> ["a@b","c@d"]); groups flattened. */
export function bareAddresses(value: string, what: string): string[] {
  if (/[\r\n]/.test(value)) bad(`${what} must not contain line breaks.`);
  const out: string[] = [];
  for (const a of addressparser(value, { flatten: true })) {
    const addr = 'address' in a && typeof a.address === 'string' ? a.address.trim() : '';
    if (!/^[^\s@<>",;]+@[^\s@<>",;]+$/.test(addr)) bad(`${what}: "${value.slice(0, 100)}" is not a valid email address.`);
    out.push(addr);
  }
  return out;
}

function singleAddress(value: string, what: string): string {
  const list = bareAddresses(value, what);
  if (list.length !== 1) bad(`${what} must hold exactly one address.`);
  return list[0]!;
}

const HEADER_NAME_RE = /^[!-9;-~]{1,100}$/; // RFC 5322 field-name: printable ASCII except ':'
/** Headers the composer owns; letting the client set them would produce a broken message. */
const RESERVED_HEADERS = new Set(['content-type', 'content-transfer-encoding', 'mime-version', 'from', 'to', 'cc', 'bcc', 'subject', 'reply-to']);

function customHeaders(list: Json[] | undefined, path: string): { key: string; value: string }[] {
  return (list ?? []).map((h, i) => {
    const name = reqStr(h, 'Name', `${path}[${i}].`);
    const value = optStr(h, 'Value', `${path}[${i}].`) ?? '';
    if (!HEADER_NAME_RE.test(name)) bad(`${path}[${i}].Name is not a valid header name.`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) bad(`${path}[${i}].Name "${name}" is set by the gateway and cannot be given.`);
    if (/[\r\n]/.test(value)) bad(`${path}[${i}].Value must not contain line breaks.`);
    return { key: name, value };
  });
}

const CTE: Record<string, string> = { BASE64: 'base64', QUOTED_PRINTABLE: 'quoted-printable', SEVEN_BIT: '7bit' };

function decodeBase64Strict(v: string, what: string): Buffer {
  const s = v.replace(/\s+/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) bad(`${what} is not valid base64.`);
  return Buffer.from(s, 'base64');
}

function attachments(list: Json[] | undefined, path: string) {
  return (list ?? []).map((a, i) => {
    const p = `${path}[${i}].`;
    const raw = a.RawContent;
    if (typeof raw !== 'string') bad(`${p}RawContent is required (base64).`);
    const fileName = reqStr(a, 'FileName', p);
    if (/[\r\n]/.test(fileName)) bad(`${p}FileName must not contain line breaks.`);
    const disp = optStr(a, 'ContentDisposition', p);
    if (disp !== undefined && disp !== 'ATTACHMENT' && disp !== 'INLINE') bad(`${p}ContentDisposition must be ATTACHMENT or INLINE.`);
    const cte = optStr(a, 'ContentTransferEncoding', p);
    if (cte !== undefined && !CTE[cte]) bad(`${p}ContentTransferEncoding must be BASE64, QUOTED_PRINTABLE or SEVEN_BIT.`);
    const cid = optStr(a, 'ContentId', p);
    if (cid !== undefined && !/^[!-~]{1,200}$/.test(cid)) bad(`${p}ContentId is not valid.`);
    const ctype = optStr(a, 'ContentType', p);
    if (ctype !== undefined && !/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/.test(ctype)) bad(`${p}ContentType is not a valid media type.`);
    const desc = optStr(a, 'ContentDescription', p);
    if (desc !== undefined && /[\r\n]/.test(desc)) bad(`${p}ContentDescription must not contain line breaks.`);
    return {
      // The SDK sends blobs base64-encoded in JSON.
      content: decodeBase64Strict(raw, `${p}RawContent`),
      filename: fileName,
      contentDisposition: disp === 'INLINE' ? 'inline' : 'attachment',
      ...(cid !== undefined ? { cid: cid.replace(/^<|>$/g, '') } : {}),
      ...(ctype !== undefined ? { contentType: ctype } : {}),
      ...(cte !== undefined ? { contentTransferEncoding: CTE[cte]! } : {}),
      ...(desc !== undefined ? { headers: { 'Content-Description': desc } } : {}),
    };
  });
}

function build(opts: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    new MailComposer(opts).compile().build((err, buf) => (err ? reject(err) : resolve(buf)));
  });
}

function envelopeOf(env: Envelope): { mailFrom: string; recipients: string[] } {
  if (!env.from) bad('FromEmailAddress is required.');
  const mailFrom = singleAddress(env.from, 'FromEmailAddress');
  const recipients = [...env.to, ...env.cc, ...env.bcc].flatMap((a) => bareAddresses(a, 'Destination'));
  return { mailFrom, recipients };
}

function textPart(o: Json | undefined, path: string): string | undefined {
  if (!o) return undefined;
  return optStr(o, 'Data', path) ?? '';
}

/** Content.Simple: {Subject, Body{Text,Html}, Headers, Attachments}. */
export async function composeSimple(simple: Json, env: Envelope): Promise<ComposedMessage> {
  const { mailFrom, recipients } = envelopeOf(env);
  const subject = reqObj(simple, 'Subject', 'Content.Simple.');
  const body = reqObj(simple, 'Body', 'Content.Simple.');
  const text = textPart(optObj(body, 'Text', 'Content.Simple.Body.'), 'Content.Simple.Body.Text.');
  const html = textPart(optObj(body, 'Html', 'Content.Simple.Body.'), 'Content.Simple.Body.Html.');
  if (text === undefined && html === undefined) bad('Content.Simple.Body needs Text or Html.');
  const raw = await build({
    from: env.from!,
    to: env.to, cc: env.cc, replyTo: env.replyTo,
    subject: optStr(subject, 'Data', 'Content.Simple.Subject.') ?? '',
    ...(text !== undefined ? { text } : {}),
    ...(html !== undefined ? { html } : {}),
    headers: customHeaders(optObjArray(simple, 'Headers', 'Content.Simple.'), 'Content.Simple.Headers'),
    attachments: attachments(optObjArray(simple, 'Attachments', 'Content.Simple.'), 'Content.Simple.Attachments'),
  });
  return { raw, mailFrom, recipients };
}

/** Content.Template with inline TemplateContent; stored templates (TemplateName) do not exist here. */
export async function composeTemplate(tpl: Json, env: Envelope): Promise<ComposedMessage> {
  const { mailFrom, recipients } = envelopeOf(env);
  const content = optObj(tpl, 'TemplateContent', 'Content.Template.');
  if (!content) {
    const name = optStr(tpl, 'TemplateName', 'Content.Template.') ?? optStr(tpl, 'TemplateArn', 'Content.Template.');
    if (name) throw new GatewayError('NotFound', `Template ${name.slice(0, 100)} does not exist: stored templates are not supported, send TemplateContent inline.`);
    bad('Content.Template.TemplateContent is required.');
  }
  const data = parseTemplateData(optStr(tpl, 'TemplateData', 'Content.Template.'));
  const subject = optStr(content, 'Subject', 'Content.Template.TemplateContent.') ?? '';
  const text = optStr(content, 'Text', 'Content.Template.TemplateContent.');
  const html = optStr(content, 'Html', 'Content.Template.TemplateContent.');
  if (text === undefined && html === undefined) bad('Content.Template.TemplateContent needs Text or Html.');
  const renderedSubject = renderTemplate(subject, data, false);
  if (/[\r\n]/.test(renderedSubject)) bad('The rendered subject must not contain line breaks.');
  const raw = await build({
    from: env.from!,
    to: env.to, cc: env.cc, replyTo: env.replyTo,
    subject: renderedSubject,
    ...(text !== undefined ? { text: renderTemplate(text, data, false) } : {}),
    ...(html !== undefined ? { html: renderTemplate(html, data, true) } : {}),
    headers: customHeaders(optObjArray(tpl, 'Headers', 'Content.Template.'), 'Content.Template.Headers'),
    attachments: attachments(optObjArray(tpl, 'Attachments', 'Content.Template.'), 'Content.Template.Attachments'),
  });
  return { raw, mailFrom, recipients };
}

/** The header block of a raw message (up to the first empty line), for envelope lookup only. */
function headerBlock(raw: Buffer): string {
  const limit = Math.min(raw.length, 256 * 1024); // a header block larger than this is not mail
  const head = raw.subarray(0, limit).toString('latin1');
  const m = /\r?\n\r?\n/.exec(head);
  return m ? head.slice(0, m.index) : head;
}

/** Content.Raw: {Data: base64}. Envelope from the request when given, else from the headers. */
export function composeRaw(rawBlock: Json, env: Envelope): ComposedMessage {
  const data = rawBlock.Data;
  if (typeof data !== 'string' || data === '') bad('Content.Raw.Data is required (base64 MIME message).');
  const raw = decodeBase64Strict(data, 'Content.Raw.Data');
  if (raw.length === 0) bad('Content.Raw.Data is empty.');
  const headers = libmime.decodeHeaders(headerBlock(raw));
  const first = (name: string) => headers[name]?.[0];
  const all = (name: string) => (headers[name] ?? []).flatMap((v) => bareAddresses(v, `Raw message ${name} header`));
  let mailFrom: string;
  if (env.from) mailFrom = singleAddress(env.from, 'FromEmailAddress');
  else {
    const from = first('from');
    if (!from) bad('FromEmailAddress is required when the raw message has no From header.');
    mailFrom = singleAddress(from, 'Raw message From header');
  }
  const given = [...env.to, ...env.cc, ...env.bcc];
  const recipients = given.length > 0
    ? given.flatMap((a) => bareAddresses(a, 'Destination'))
    : [...all('to'), ...all('cc'), ...all('bcc')];
  return { raw, mailFrom, recipients };
}
