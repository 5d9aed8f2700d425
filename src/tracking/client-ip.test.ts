import { describe, expect, it } from 'vitest';
import { createClientIpResolver } from './client-ip.js';

describe('client IP', () => {
  it('uses the peer when no proxy is trusted, whatever the headers say', () => {
    const ip = createClientIpResolver([]);
    expect(ip('203.0.113.9', '1.2.3.4', 'for=5.6.7.8')).toBe('203.0.113.9');
    expect(ip('::ffff:203.0.113.9', undefined, undefined)).toBe('203.0.113.9');
  });

  it('ignores headers from an untrusted peer', () => {
    const ip = createClientIpResolver(['10.0.0.0/8']);
    expect(ip('203.0.113.9', '1.2.3.4', undefined)).toBe('203.0.113.9');
  });

  it('takes the right-most untrusted X-Forwarded-For hop', () => {
    const ip = createClientIpResolver(['10.0.0.0/8', '192.168.1.1']);
    expect(ip('10.1.1.1', '6.6.6.6, 198.51.100.7, 192.168.1.1', undefined)).toBe('198.51.100.7');
    expect(ip('::ffff:10.1.1.1', ['6.6.6.6', '198.51.100.7'], undefined)).toBe('198.51.100.7');
    // a chain of only trusted hops ends at the left-most
    expect(ip('10.1.1.1', '10.2.2.2', undefined)).toBe('10.2.2.2');
    // garbage stops the walk at the last good hop
    expect(ip('10.1.1.1', 'unknown', undefined)).toBe('10.1.1.1');
    expect(ip('10.1.1.1', '1.2.3.4, <script>', undefined)).toBe('10.1.1.1');
    expect(ip('10.1.1.1', '0x7f.1', undefined)).toBe('10.1.1.1');
  });

  it('reads RFC 7239 Forwarded, preferring it over X-Forwarded-For', () => {
    const ip = createClientIpResolver(['127.0.0.1', '::1']);
    expect(ip('127.0.0.1', '9.9.9.9', 'for=192.0.2.60;proto=http;by=203.0.113.43')).toBe('192.0.2.60');
    expect(ip('::1', undefined, 'for="[2001:db8:cafe::17]:4711"')).toBe('2001:db8:cafe::17');
    expect(ip('127.0.0.1', undefined, 'for=192.0.2.43:80, for=127.0.0.1')).toBe('192.0.2.43');
    expect(ip('127.0.0.1', undefined, 'for=_hidden')).toBe('127.0.0.1');
  });

  it('rejects a bad trusted-proxy entry at start-up', () => {
    expect(() => createClientIpResolver(['10.0.0.0/33'])).toThrow(/MAILBEACON_TRUSTED_PROXIES/);
    expect(() => createClientIpResolver(['proxy.local'])).toThrow(/proxy.local/);
  });
});
