// Builds the `mail` object every notification of a message carries (SES / Postbox event
// publishing format: timestamp, source, messageId, destination, headers, commonHeaders,
// tags), fixed at accept time. Header values come from the client and are only decoded
// (RFC 2047 words, RFC 5322 address lists), never trusted for anything else.
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import type { Address } from 'nodemailer/lib/addressparser';
import { rfc3339 } from '../events/model.js';

/** SES truncates the headers list of large messages and says so (headersTruncated). These
 *  bounds keep one notification small however many headers a client sends. */
export const MAX_MAIL_HEADERS = 100;
export const MAX_MAIL_HEADER_VALUE = 2048;
export const MAX_MAIL_HEADERS_BYTES = 16 * 1024;

export interface RawHeader { name: string; value: string }

export interface MailObjectInput {
  acceptedAt: number;
  messageId: string;
  mailFrom: string;
  identity: string;
  recipients: string[];
  headers: RawHeader[];
  tags: Record<string, string[]>;
}

/** RFC 5322 2.2.3: a folded value is unfolded by removing CRLF before whitespace. */
export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '').trim();
}

function decodeText(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value; // an undecodable encoded-word is shown as sent rather than failing the send
  }
}

/** `Name <addr>` as SES writes it; the name quoted when it holds RFC 5322 specials. */
function formatAddress(a: { name: string; address: string }): string {
  const name = decodeText(a.name).trim();
  if (!name) return a.address;
  const shown = /[()<>\[\]:;@\\,."]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
  return a.address ? `${shown} <${a.address}>` : shown;
}

export function addressList(value: string): string[] {
  const out: string[] = [];
  const walk = (list: Address[]): void => {
    for (const a of list) {
      if (a.group) walk(a.group);
      else if (a.address || a.name) out.push(formatAddress(a));
    }
  };
  walk(addressparser(value));
  return out;
}

export function buildMailObject(input: MailObjectInput): Record<string, unknown> {
  const headers: RawHeader[] = [];
  let truncated = false;
  let bytes = 0;
  for (const h of input.headers) {
    let value = unfold(h.value);
    if (value.length > MAX_MAIL_HEADER_VALUE) {
      value = value.slice(0, MAX_MAIL_HEADER_VALUE);
      truncated = true;
    }
    bytes += h.name.length + value.length;
    if (headers.length >= MAX_MAIL_HEADERS || bytes > MAX_MAIL_HEADERS_BYTES) {
      truncated = true;
      break;
    }
    headers.push({ name: h.name, value });
  }

  const first = (name: string): string | undefined => {
    const lower = name.toLowerCase();
    const h = input.headers.find((x) => x.name.toLowerCase() === lower);
    return h ? unfold(h.value) : undefined;
  };
  const all = (name: string): string[] => {
    const lower = name.toLowerCase();
    return input.headers.filter((x) => x.name.toLowerCase() === lower).flatMap((x) => addressList(unfold(x.value)));
  };

  const commonHeaders: Record<string, unknown> = { from: all('From') };
  const to = all('To');
  if (to.length) commonHeaders.to = to;
  const cc = all('Cc');
  if (cc.length) commonHeaders.cc = cc;
  const bcc = all('Bcc');
  if (bcc.length) commonHeaders.bcc = bcc;
  const replyTo = all('Reply-To');
  if (replyTo.length) commonHeaders.replyTo = replyTo;
  const returnPath = first('Return-Path');
  if (returnPath) commonHeaders.returnPath = returnPath;
  const subject = first('Subject');
  if (subject !== undefined) commonHeaders.subject = decodeText(subject);
  const date = first('Date');
  if (date !== undefined) commonHeaders.date = date;
  const messageIdHeader = first('Message-ID');
  if (messageIdHeader !== undefined) commonHeaders.messageId = messageIdHeader;

  return {
    timestamp: rfc3339(input.acceptedAt),
    source: input.mailFrom,
    messageId: input.messageId,
    identityId: input.identity,
    destination: [...input.recipients],
    headersTruncated: truncated,
    headers,
    commonHeaders,
    tags: input.tags,
  };
}
