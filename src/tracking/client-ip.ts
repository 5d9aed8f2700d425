// The client address of a pixel request. X-Forwarded-For and Forwarded (RFC 7239) are
// believed only hop by hop from the right while each hop is a trusted proxy
// (MAILBEACON_TRUSTED_PROXIES); the result is the right-most address no trusted proxy vouches
// beyond. Trusts: the TCP peer address only; header text is parsed, never echoed.
import ipaddr from 'ipaddr.js';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Addr, number];

/** Longest header we look into: a forwarding chain longer than this is not real. */
const MAX_HEADER_CHARS = 2048;
const MAX_HOPS = 32;

export type ClientIpResolver = (peer: string | undefined, xff: string | string[] | undefined, forwarded: string | string[] | undefined) => string;

/** Parses the trusted list once (CIDRs or plain addresses); throws on a bad entry. */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  const ranges: Range[] = trustedProxies.map((entry) => {
    const s = entry.trim();
    try {
      if (s.includes('/')) return normaliseRange(ipaddr.parseCIDR(s));
      const a = normalise(ipaddr.parse(s));
      return [a, a.kind() === 'ipv4' ? 32 : 128] as Range;
    } catch {
      throw new Error(`MAILBEACON_TRUSTED_PROXIES: "${s}" is not an IP address or CIDR range`);
    }
  });
  const trusted = (a: Addr): boolean => ranges.some(([net, bits]) => a.kind() === net.kind() && a.match(net, bits));

  if (ranges.length === 0) {
    // No proxy trusted: headers are never read, and the peer address is already canonical
    // text from the kernel (only the v4-mapped form needs unwrapping).
    return (peer) => (peer === undefined ? '' : peer.startsWith('::ffff:') && peer.includes('.') ? peer.slice(7) : peer);
  }
  return (peer, xff, forwarded) => {
    const peerAddr = parseAddr(peer);
    if (!peerAddr) return '';
    if (!trusted(peerAddr)) return peerAddr.toString();
    // Forwarded is the standard; a proxy that sets it is preferred over X-Forwarded-For.
    const hops = forwarded !== undefined ? forwardedFor(join(forwarded)) : xff !== undefined ? join(xff).split(',') : [];
    let current = peerAddr;
    for (let i = hops.length - 1, n = 0; i >= 0 && n < MAX_HOPS; i--, n++) {
      if (!trusted(current)) break;
      const next = parseAddr(hops[i]);
      if (!next) break; // "unknown", obfuscated or garbage: the last good hop is all we know
      current = next;
    }
    return current.toString();
  };
}

function join(h: string | string[]): string {
  const s = Array.isArray(h) ? h.join(',') : h;
  return s.length > MAX_HEADER_CHARS ? s.slice(s.length - MAX_HEADER_CHARS) : s;
}

/** The for= values of a Forwarded header, in order. */
function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(',')) {
    let value: string | undefined;
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') value = pair.slice(eq + 1).trim();
    }
    out.push(value ?? '');
  }
  return out;
}

/** An address from a peer or header value: strips quotes, [v6]:port, v4:port, maps ::ffff:v4 to v4. */
function parseAddr(raw: string | undefined): Addr | null {
  if (!raw) return null;
  let s = raw.trim();
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1);
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    s = s.slice(1, end);
  } else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) {
    s = s.slice(0, s.lastIndexOf(':'));
  }
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!ipaddr.isValid(s)) return null;
  // isValid accepts legacy forms ("1", "0x7f.1"); only dotted-quad v4 and real v6 count.
  if (!s.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(s)) return null;
  return normalise(ipaddr.parse(s));
}

function normalise(a: Addr): Addr {
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
}

function normaliseRange([a, bits]: Range): Range {
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) return [(a as ipaddr.IPv6).toIPv4Address(), bits - 96];
  return [a, bits];
}
