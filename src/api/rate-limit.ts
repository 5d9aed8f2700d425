// Per-access-key sending rate (SES "maximum send rate"): a token bucket per key, refilled
// continuously. An empty bucket answers TooManyRequestsException (429), which AWS SDKs retry
// with back-off. Keyed only by authenticated key ids, so its map is bounded by the key count.
import { GatewayError } from '../errors.js';

export interface RateLimit {
  /** Sustained SendEmail calls per second per access key. */
  perSecond: number;
  /** Calls allowed at once after a quiet period. */
  burst: number;
}

export class SendRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: RateLimit, private readonly now: () => number) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new Error('rate limit: perSecond must be > 0 and burst >= 1');
  }

  /** Takes one token for `key` or throws TooManyRequests. */
  take(key: string): void {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: t };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      throw new GatewayError('TooManyRequests', `Maximum sending rate exceeded (${this.limit.perSecond}/s for this access key).`);
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
  }
}
