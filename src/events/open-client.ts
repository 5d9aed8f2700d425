// Who loaded the pixel, told from the stored User-Agent when an Open notification is
// rendered (never on the pixel's hot path): the image proxies of Gmail and Yahoo (a real
// open, but the address and agent are the proxy's), Apple Mail Privacy Protection (which
// fetches every image on delivery, whether or not anyone reads: a machine open), other
// automated fetchers (security scanners, link checkers), and otherwise the mail client.
// Proxies are checked before `isbot`, which counts all three as bots; `bowser` parses the
// rest. A pure function of the agent string, so a redelivered notification is identical.
import Bowser from 'bowser';
import { isbot } from 'isbot';

export interface OpenClient {
  /** True when no person is behind the load (Apple MPP prefetch, scanners, bots). */
  machineOpen: boolean;
  /** The image proxy that fetched it, if any. */
  proxy: 'gmail' | 'yahoo' | 'apple' | null;
  /** The mail client or browser, as far as its agent string tells. */
  client: { name: string | null; os: string | null; deviceType: string | null };
}

const NONE = { name: null, os: null, deviceType: null };

/** Agents repeat a lot (one per client build): remember the last answers, within bounds. */
const CACHE_MAX = 2000;
const cache = new Map<string, OpenClient>();

export function classifyOpen(userAgent: string): OpenClient {
  const hit = cache.get(userAgent);
  if (hit) return hit;
  const result = classify(userAgent);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(userAgent, result);
  return result;
}

function classify(ua: string): OpenClient {
  if (/GoogleImageProxy/i.test(ua)) return { machineOpen: false, proxy: 'gmail', client: { name: 'Gmail', os: null, deviceType: null } };
  if (/YahooMailProxy/i.test(ua)) return { machineOpen: false, proxy: 'yahoo', client: { name: 'Yahoo Mail', os: null, deviceType: null } };
  // Apple's privacy proxy sends the bare product token and nothing else.
  if (ua.trim() === 'Mozilla/5.0') return { machineOpen: true, proxy: 'apple', client: { name: 'Apple Mail', os: null, deviceType: null } };
  if (ua.trim() === '' || isbot(ua)) return { machineOpen: true, proxy: null, client: ua.trim() === '' ? NONE : describe(ua) };
  return { machineOpen: false, proxy: null, client: describe(ua) };
}

function describe(ua: string): OpenClient['client'] {
  const parsed = Bowser.parse(ua);
  return { name: parsed.browser.name ?? null, os: parsed.os.name ?? null, deviceType: parsed.platform.type ?? null };
}
