// Envelope address checks for the send pipeline: syntax of MAIL FROM / RCPT TO values
// (RFC 5321 4.1.2 "Mailbox", kept to the dot-atom/quoted forms real senders use) and the
// domain of an address. Trusts nothing: every value comes from a client.
import addressparser from 'nodemailer/lib/addressparser';

/** RFC 5321 4.5.3.1: local part 64 octets, whole path 256 (254 usable inside <>). */
const MAX_LOCAL = 64;
const MAX_ADDRESS = 254;

// A label of letters/digits/hyphens, Unicode letters allowed (SMTPUTF8 / IDN senders).
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?`;
const DOMAIN_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`, 'u');
// dot-atom local part (RFC 5322 atext plus UTF-8), or a quoted string without CR/LF.
const LOCAL_RE = /^(?:[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*|"(?:[^"\\\r\n]|\\[^\r\n])*")$/u;

/** Returns why `addr` is not a usable mailbox, or null when it is. */
export function addressProblem(addr: string): string | null {
  if (addr.length === 0) return 'empty address';
  if (addr.length > MAX_ADDRESS) return `address longer than ${MAX_ADDRESS} characters`;
  const at = addr.lastIndexOf('@');
  if (at <= 0 || at === addr.length - 1) return 'address must look like local@domain';
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (local.length > MAX_LOCAL) return `local part longer than ${MAX_LOCAL} characters`;
  if (!LOCAL_RE.test(local)) return 'local part has characters not allowed in an address';
  if (!DOMAIN_RE.test(domain)) return 'domain is not a valid host name';
  return null;
}

/**
 * Accepts a bare address or one display-name form ("Name <a@b>", as SES accepts in
 * Destination lists) and returns the bare address, or throws a message naming the problem.
 */
export function normaliseAddress(value: string, what: string): string {
  let v = value.trim();
  if (/[\r\n\0]/.test(v)) throw new Error(`${what} contains a line break or NUL`);
  if (v.includes('<')) {
    const parsed = addressparser(v, { flatten: true });
    if (parsed.length !== 1 || !parsed[0]?.address) throw new Error(`${what} "${value}" is not a single address`);
    v = parsed[0].address;
  }
  const problem = addressProblem(v);
  if (problem) throw new Error(`${what} "${value}": ${problem}`);
  return v;
}

/** Lower-cased domain of an address already checked by addressProblem. */
export function domainOf(addr: string): string {
  return addr.slice(addr.lastIndexOf('@') + 1).toLowerCase();
}
