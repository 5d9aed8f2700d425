import { describe, expect, it } from 'vitest';
import { readHeaders } from './request-headers.js';

describe('readHeaders', () => {
  it('finds the three headers in any case, as node would build req.headers', () => {
    const raw = ['Host', 'x', 'USER-AGENT', 'Mail/1', 'user-agent', 'Mail/2', 'X-Forwarded-For', '192.0.2.1, 192.0.2.2',
      'Accept', '*/*', 'x-forwarded-for', '192.0.2.3', 'Forwarded', 'for=192.0.2.4', 'x-forwarded-host', 'h', 'forwarded-x', 'y'];
    expect(readHeaders(raw)).toEqual({ userAgent: 'Mail/1', xff: ['192.0.2.1, 192.0.2.2', '192.0.2.3'], forwarded: ['for=192.0.2.4'] });
  });

  it('leaves absent headers undefined and ignores a dangling name', () => {
    expect(readHeaders([])).toEqual({ userAgent: undefined, xff: undefined, forwarded: undefined });
    expect(readHeaders(['Host', 'x', 'User-Agent'])).toEqual({ userAgent: undefined, xff: undefined, forwarded: undefined });
  });
});
