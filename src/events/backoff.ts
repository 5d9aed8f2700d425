// Retry timing for notification delivery: exponential backoff with full jitter (the
// AWS Architecture Blog "Exponential Backoff And Jitter" scheme) and Retry-After
// parsing (RFC 9110 §10.2.3: delay-seconds or an HTTP-date). Trusts nothing it parses.

/** First ceiling and the cap of the backoff window. A cap of one hour spreads about
 *  seventy attempts over the default three-day notification lifetime. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 3_600_000;
/** Full jitter may draw ~0; this floor stops a failing receiver from being hammered. */
export const BACKOFF_FLOOR_MS = 250;

/** Delay before attempt `attempt + 1`, given `attempt` attempts so far (1-based). */
export function fullJitterBackoff(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** exp);
  return Math.max(BACKOFF_FLOOR_MS, Math.floor(random() * ceiling));
}

/** Milliseconds the server asked us to wait, or undefined when absent or unparsable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const s = v.trim();
  if (/^\d{1,10}$/.test(s)) return Number(s) * 1000;
  // An HTTP-date starts with the day name (IMF-fixdate, RFC 850, asctime); Date.parse alone
  // would read junk such as "-5" as a year.
  if (!/^[A-Za-z]{3,9},? /.test(s)) return undefined;
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
