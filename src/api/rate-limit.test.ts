// Unit tests of the per-key SendEmail token bucket (burst, refill, isolation between keys).
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { SendRateLimiter } from './rate-limit.js';

describe('SendRateLimiter', () => {
  it('allows the burst, refuses beyond it, refills over time, per key', () => {
    let t = 0;
    const l = new SendRateLimiter({ perSecond: 2, burst: 3 }, () => t);
    for (let i = 0; i < 3; i++) l.take('a');
    expect(() => l.take('a')).toThrow(GatewayError);
    l.take('b'); // other keys are unaffected
    t += 500; // +1 token
    l.take('a');
    expect(() => l.take('a')).toThrow(/rate/);
    t += 10_000; // refills only up to the burst
    for (let i = 0; i < 3; i++) l.take('a');
    expect(() => l.take('a')).toThrow(GatewayError);
  });

  it('rejects a limit that would silently turn itself off', () => {
    expect(() => new SendRateLimiter({ perSecond: 0, burst: 1 }, Date.now)).toThrow();
    expect(() => new SendRateLimiter({ perSecond: NaN, burst: 1 }, Date.now)).toThrow();
  });
});
