// SMTP replies as Postbox documents them (RFC 5321 codes + RFC 3463 enhanced status codes),
// and the mapping from the gateway's error registry (src/errors.ts) to them.
// smtp-server derives the enhanced code from the numeric code alone (550 -> 5.1.1); a reply
// text we build already starts with its own enhanced code, and the connection's send is
// wrapped so the library does not add a second one. No reply carries internal detail.
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { ERRORS, isGatewayError } from '../errors.js';

export interface SmtpReplyError extends Error { responseCode: number }

const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

/** An error for an smtp-server callback whose reply is exactly `code enhanced text`. */
export function smtpError(code: number, enhanced: string, text: string): SmtpReplyError {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}

export const REPLY = {
  senderNotAllowed: (address: string) => smtpError(550, '5.7.1', `Sender not allowed: ${address || '<>'} is not a verified identity`),
  authFailed: () => smtpError(535, '5.7.8', 'Authentication failed'),
  tooManyAuthFailures: () => smtpError(421, '4.7.0', 'Too many failed authentication attempts, closing connection'),
  tooManyMessages: () => smtpError(421, '4.7.0', 'Too many messages on one connection, please reconnect'),
  messageTooBig: (limit: number) => smtpError(552, '5.3.4', `Message too big (the limit is ${limit} bytes)`),
  incomplete: () => smtpError(451, '4.3.0', 'Message not received in full; nothing was queued'),
  internal: () => smtpError(ERRORS.Internal.smtp.code, ERRORS.Internal.smtp.enhanced, ERRORS.Internal.message),
} as const;

/**
 * Maps whatever a stage threw to the reply: a GatewayError keeps its registry code and its
 * client-facing message; anything else is internal trouble, answered 451 (temporary, so the
 * client retries) with a generic text — the details go to the log, never to the client.
 */
export function replyFor(e: unknown): SmtpReplyError {
  if (isGatewayError(e)) return smtpError(e.spec.smtp.code, e.spec.smtp.enhanced, oneLine(e.message));
  return REPLY.internal();
}

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ').slice(0, 400);

/**
 * Wraps one connection's reply writer: AUTH before STARTTLS gets Postbox's
 * `530 5.7.0 Must issue a STARTTLS command first` (the library says 538), texts that carry
 * their own enhanced code are sent as they are, and every reply counts towards the
 * per-connection command limit (`onLimit` is called once when it is passed).
 * With `hideAuthBeforeTls`, EHLO does not advertise AUTH on a cleartext connection
 * (Postfix smtpd_tls_auth_only), so clients do not put a password on the wire unencrypted.
 */
export function wrapReplies(conn: SMTPConnection, maxReplies: number, onLimit: () => void, hideAuthBeforeTls: boolean): void {
  const send = conn.send.bind(conn);
  let replies = 0;
  conn.send = (code: number, data?: string | string[] | null, context?: string | false): void => {
    if (hideAuthBeforeTls && code === 250 && Array.isArray(data) && !conn.secure) {
      send(code, data.filter((line) => !/^AUTH /i.test(line)), context);
    } else if (code === 538) {
      send(530, '5.7.0 Must issue a STARTTLS command first', false);
    } else if (typeof data === 'string' && ENHANCED_PREFIX.test(data)) {
      send(code, data, false);
    } else {
      send(code, data, context);
    }
    if (++replies === maxReplies && code !== 421) {
      onLimit();
      send(421, '4.7.0 Too many commands on one connection, closing', false);
    }
  };
}
