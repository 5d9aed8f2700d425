// Unit tests of SigV4 verification: requests signed by the SDK's own signer must verify
// (paths with escapes, queries, signed payload hashes) and every alteration must not.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import type { AccessKey } from '../store/port.js';
import { GatewayError } from '../errors.js';
import { parseAmzDate, parseAuthorization, verifySigV4, type SignedRequest } from './sigv4.js';

const KEY: AccessKey = { id: 'AKIDUNIT', secret: 'unit-secret', name: 'u', createdAt: 0, revokedAt: null };
const getKey = async (id: string) => (id === KEY.id ? KEY : undefined);
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

async function sign(opts: { method?: string; path?: string; query?: Record<string, string>; body?: string; headers?: Record<string, string>; region?: string; date?: number } = {}): Promise<SignedRequest> {
  const body = opts.body ?? '';
  const req = new HttpRequest({
    method: opts.method ?? 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 8787,
    path: opts.path ?? '/v2/email/outbound-emails', query: opts.query ?? {},
    headers: { host: '127.0.0.1:8787', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...opts.headers },
    body,
  });
  const signer = new SignatureV4({ credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret }, region: opts.region ?? 'ru-central1', service: 'ses', sha256: Hash.bind(null, 'sha256') });
  const s = await signer.sign(req, { signingDate: new Date(opts.date ?? NOW) });
  const qs = Object.entries(s.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.headers)) headers[k.toLowerCase()] = v;
  return { method: s.method, url: s.path + (qs ? `?${qs}` : ''), headers, body: Buffer.from(body) };
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof GatewayError ? e.kind : `other: ${String(e)}`;
  }
}

describe('verifySigV4', () => {
  it('accepts requests signed by the SDK signer, any region', async () => {
    for (const region of ['us-east-1', 'ru-central1', 'eu-west-2']) {
      const r = await sign({ body: '{"a":1}', region });
      expect((await verifySigV4(r, getKey, NOW)).id).toBe(KEY.id);
    }
  });

  it('accepts escaped paths and queries', async () => {
    const r = await sign({ method: 'GET', path: `/v2/email/identities/${encodeURIComponent('a+b@example.com')}`, query: { NextToken: 'x/y+z=', PageSize: '10' } });
    expect(r.url).toContain('%40');
    expect(await kindOf(verifySigV4(r, getKey, NOW))).toBe('ok');
  });

  it('checks a declared payload hash against the body', async () => {
    const body = '{"x":true}';
    const hash = createHash('sha256').update(body).digest('hex');
    const r = await sign({ body, headers: { 'x-amz-content-sha256': hash } });
    expect(await kindOf(verifySigV4(r, getKey, NOW))).toBe('ok');
    expect(await kindOf(verifySigV4({ ...r, body: Buffer.from('{"x":false}') }, getKey, NOW))).toBe('InvalidSignature');
    const u = await sign({ body, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(await kindOf(verifySigV4({ ...u, body: Buffer.from('other') }, getKey, NOW))).toBe('ok');
  });

  it('refuses every alteration', async () => {
    const r = await sign({ body: '{"a":1}' });
    expect(await kindOf(verifySigV4({ ...r, body: Buffer.from('{"a":2}') }, getKey, NOW))).toBe('InvalidSignature');
    expect(await kindOf(verifySigV4({ ...r, method: 'PUT' }, getKey, NOW))).toBe('InvalidSignature');
    expect(await kindOf(verifySigV4({ ...r, url: '/v2/email/outbound-emails?x=1' }, getKey, NOW))).toBe('InvalidSignature');
    expect(await kindOf(verifySigV4({ ...r, headers: { ...r.headers, host: 'evil:8787' } }, getKey, NOW))).toBe('InvalidSignature');
    const sig = r.headers.authorization!;
    const flipped = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    expect(await kindOf(verifySigV4({ ...r, headers: { ...r.headers, authorization: flipped } }, getKey, NOW))).toBe('InvalidSignature');
    expect(await kindOf(verifySigV4({ ...r, headers: { ...r.headers, authorization: 'Bearer x' } }, getKey, NOW))).toBe('InvalidSignature');
    const { authorization: _a, ...noAuth } = r.headers;
    expect(await kindOf(verifySigV4({ ...r, headers: noAuth }, getKey, NOW))).toBe('MissingAuthentication');
  });

  it('enforces the 15 minute window and key state', async () => {
    const r = await sign({ body: '' });
    expect(await kindOf(verifySigV4(r, getKey, NOW + 14 * 60_000))).toBe('ok');
    expect(await kindOf(verifySigV4(r, getKey, NOW + 16 * 60_000))).toBe('RequestExpired');
    expect(await kindOf(verifySigV4(r, getKey, NOW - 16 * 60_000))).toBe('RequestExpired');
    expect(await kindOf(verifySigV4(r, async () => undefined, NOW))).toBe('UnknownAccessKey');
    expect(await kindOf(verifySigV4(r, async () => ({ ...KEY, revokedAt: 1 }), NOW))).toBe('UnknownAccessKey');
    expect(await kindOf(verifySigV4(r, async () => ({ ...KEY, secret: 'other' }), NOW))).toBe('InvalidSignature');
  });

  it('parses the Authorization header and X-Amz-Date strictly', () => {
    const p = parseAuthorization(`AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}`);
    expect(p).toMatchObject({ accessKeyId: 'AK', region: 'us-east-1', service: 'ses', signedHeaders: ['host', 'x-amz-date'] });
    expect(() => parseAuthorization('AWS4-HMAC-SHA256 Credential=AK/x/ses/aws4_request, SignedHeaders=host, Signature=zz')).toThrow(GatewayError);
    expect(parseAmzDate('20261203T120000Z')).toBe(NOW);
    expect(parseAmzDate('2026-12-03T12:00:00Z')).toBeNaN();
  });
});
