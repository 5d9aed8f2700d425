// SSRF guard for webhook destinations: refuses loopback, private, link-local and every
// other non-global-unicast range (ipaddr.js range names) unless explicitly allowed.
// The check runs inside the socket's own `lookup`, so the address checked is the address
// connected to (no DNS-rebinding gap between a check and the connect).
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** Error code carried by refusals, so callers can tell them from network errors. */
export const PRIVATE_ADDRESS = 'EMAILBEACON_PRIVATE_ADDRESS';

export class PrivateAddressError extends Error {
  readonly code = PRIVATE_ADDRESS;
  constructor(host: string, address: string) {
    super(`${host} resolves to a non-public address (${address}); set MAILBEACON_ALLOW_PRIVATE_WEBHOOKS=true to allow`);
    this.name = 'PrivateAddressError';
  }
}

/** True only for global unicast addresses. IPv4-mapped IPv6 is judged as the IPv4 inside. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const addr = ipaddr.process(address);
  // 6to4, Teredo and NAT64 prefixes can tunnel to private space: only plain unicast passes.
  return addr.range() === 'unicast';
}

/** URL hostname without IPv6 brackets. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request/net.connect that resolves as usual, then refuses the
 * connection if any resolved address is not public (a host mixing public and private
 * answers would otherwise be a coin toss away from an internal service).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowPrivate) {
        const bad = addresses.find((a) => !isPublicAddress(a.address));
        if (bad) return callback(new PrivateAddressError(hostname, bad.address), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

/** net.connect skips `lookup` for IP literals, so those are checked here before connecting. */
export function checkLiteralHost(hostname: string, allowPrivate: boolean): void {
  const host = bareHost(hostname);
  if (!allowPrivate && net.isIP(host) && !isPublicAddress(host)) throw new PrivateAddressError(host, host);
}

/**
 * For the API (creating a destination): the URL parses, is http(s), and its host does not
 * resolve to a non-public address. Resolution may change later; delivery checks again.
 */
export async function checkWebhookUrl(url: string, allowPrivate: boolean): Promise<URL> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('webhook Url is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('webhook Url must be http:// or https://');
  const host = bareHost(u.hostname);
  if (allowPrivate) return u;
  if (net.isIP(host)) {
    checkLiteralHost(host, false);
    return u;
  }
  const addresses = await dns.promises.lookup(host, { all: true });
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad) throw new PrivateAddressError(host, bad.address);
  return u;
}
