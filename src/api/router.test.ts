// Unit tests of the path router: parameters are decoded once; unknown paths and methods
// are UnknownOperation; malformed escapes are BadRequest.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { Router } from './router.js';
import { buildRouter } from './index.js';

const noop = async () => ({ json: {} });

describe('Router', () => {
  it('matches patterns and decodes parameters', () => {
    const r = new Router().add('GET', '/v2/email/identities/:id', noop).add('PUT', '/v2/email/identities/:id/configuration-set', noop);
    expect(r.match('GET', '/v2/email/identities/a%40b.test').params).toEqual({ id: 'a@b.test' });
    expect(r.match('PUT', '/v2/email/identities/x.test/configuration-set').params).toEqual({ id: 'x.test' });
  });

  it('names unknown operations and bad escapes', () => {
    const r = new Router().add('GET', '/v2/email/identities/:id', noop);
    const kind = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return (e as GatewayError).kind;
      }
    };
    expect(kind(() => r.match('DELETE', '/v2/email/identities/x'))).toBe('UnknownOperation');
    expect(kind(() => r.match('GET', '/v2/email/nothing/x'))).toBe('UnknownOperation');
    expect(kind(() => r.match('GET', '/v2/email/identities/%E0%A4%A'))).toBe('BadRequest');
  });

  it('routes every documented operation', () => {
    const r = buildRouter();
    const ops: [string, string][] = [
      ['POST', '/v2/email/outbound-emails'], ['POST', '/v2/email/configuration-sets'], ['GET', '/v2/email/configuration-sets'],
      ['POST', '/v2/email/list-configuration-sets'], ['GET', '/v2/email/configuration-sets/a'], ['DELETE', '/v2/email/configuration-sets/a'],
      ['PUT', '/v2/email/configuration-sets/a/delivery-options'], ['PUT', '/v2/email/configuration-sets/a/tracking-options'],
      ['PUT', '/v2/email/configuration-sets/a/reputation-options'], ['PUT', '/v2/email/configuration-sets/a/sending'],
      ['PUT', '/v2/email/configuration-sets/a/suppression-options'], ['POST', '/v2/email/configuration-sets/a/event-destinations'],
      ['GET', '/v2/email/configuration-sets/a/event-destinations'], ['PUT', '/v2/email/configuration-sets/a/event-destinations/d'],
      ['DELETE', '/v2/email/configuration-sets/a/event-destinations/d'], ['POST', '/v2/email/identities'], ['GET', '/v2/email/identities'],
      ['POST', '/v2/email/list-identities'], ['GET', '/v2/email/identities/x.test'], ['DELETE', '/v2/email/identities/x.test'],
      ['PUT', '/v2/email/identities/x.test/configuration-set'], ['GET', '/v2/mailbeacon/messages'], ['GET', '/v2/mailbeacon/messages/m'],
      ['GET', '/v2/mailbeacon/messages/m/raw'], ['GET', '/v2/mailbeacon/dead-letters'], ['POST', '/v2/mailbeacon/destinations/1/replay'],
    ];
    for (const [m, p] of ops) expect(() => r.match(m, p), `${m} ${p}`).not.toThrow();
  });
});
