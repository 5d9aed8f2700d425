// Message tags: the API's EmailTags and the X-SES-MESSAGE-TAGS header
// ("name1=value1, name2=value2", SES "Using message tags"), validated with SES's rules:
// names and values of ASCII letters, digits, '_', '-' (values also '.', '@'), at most 256
// characters; "ses:" names are reserved for the gateway's own auto-tags.
import { GatewayError } from '../errors.js';

const NAME_RE = /^[A-Za-z0-9_-]{1,256}$/;
const VALUE_RE = /^[A-Za-z0-9_.@-]{0,256}$/;
/** A client cannot make the mail object grow without bound through tags. */
export const MAX_TAGS = 50;

export interface Tag { Name: string; Value: string }

export function parseTagHeader(value: string): Tag[] {
  const out: Tag[] = [];
  for (const part of value.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) throw new GatewayError('BadRequest', `X-SES-MESSAGE-TAGS: "${p.slice(0, 80)}" is not name=value`);
    out.push({ Name: p.slice(0, eq).trim(), Value: p.slice(eq + 1).trim() });
  }
  return out;
}

export function checkTags(tags: Tag[]): void {
  if (tags.length > MAX_TAGS) throw new GatewayError('BadRequest', `At most ${MAX_TAGS} message tags are allowed; got ${tags.length}.`);
  for (const t of tags) {
    if (typeof t?.Name !== 'string' || typeof t?.Value !== 'string') throw new GatewayError('BadRequest', 'Each message tag needs a Name and a Value string.');
    if (t.Name.toLowerCase().startsWith('ses:')) throw new GatewayError('BadRequest', `Message tag name "${t.Name.slice(0, 80)}" is reserved (names starting with "ses:" are set by the gateway).`);
    if (!NAME_RE.test(t.Name)) throw new GatewayError('BadRequest', `Invalid message tag name "${t.Name.slice(0, 80)}": use 1-256 ASCII letters, digits, '_' or '-'.`);
    if (!VALUE_RE.test(t.Value)) throw new GatewayError('BadRequest', `Invalid value for message tag "${t.Name}": use up to 256 ASCII letters, digits, '_', '-', '.' or '@'.`);
  }
}
