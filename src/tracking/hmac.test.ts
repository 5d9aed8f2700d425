import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from './hmac.js';

describe('HmacSha256', () => {
  it('gives the same MAC as createHmac for keys shorter than, equal to and longer than a block', () => {
    for (const keyLen of [1, 16, 32, 63, 64, 65, 100, 200]) {
      const key = randomBytes(keyLen);
      const h = new HmacSha256(key, 100);
      for (let i = 0; i < 50; i++) {
        const msg = randomBytes(randomInt(0, 101));
        expect(h.digest(msg).toString('hex')).toBe(createHmac('sha256', key).update(msg).digest('hex'));
      }
    }
  });

  it('MACs a slice of a buffer, and a shorter message after a longer one', () => {
    const key = randomBytes(32);
    const h = new HmacSha256(key, 64);
    const buf = randomBytes(80);
    expect(h.digest(buf, 5, 24).equals(createHmac('sha256', key).update(buf.subarray(5, 24)).digest())).toBe(true);
    expect(h.digest(buf, 0, 64).equals(createHmac('sha256', key).update(buf.subarray(0, 64)).digest())).toBe(true);
    expect(h.digest(buf, 3, 4).equals(createHmac('sha256', key).update(buf.subarray(3, 4)).digest())).toBe(true);
  });

  it('refuses a message longer than it was sized for', () => {
    expect(() => new HmacSha256(randomBytes(32), 8).digest(randomBytes(9))).toThrow(RangeError);
  });
});
