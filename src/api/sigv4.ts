// AWS Signature Version 4 verification for the SES v2 API (header auth, service "ses", any region).
// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// We never hand-write the canonicalisation: the request is re-signed with @smithy/signature-v4
// (the AWS SDK's own signer) over exactly the SignedHeaders the client declared, and the two
// signatures are compared in constant time. Trusts only the store's access keys.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { GatewayError } from '../errors.js';
import type { AccessKey } from '../store/port.js';

/** AWS refuses requests whose X-Amz-Date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const SERVICE = 'ses';
const UNSIGNED = 'UNSIGNED-PAYLOAD';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received (req.url), still percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface ParsedAuth { accessKeyId: string; date: string; region: string; service: string; signedHeaders: string[]; signature: string }

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

function invalid(msg: string): never {
  throw new GatewayError('InvalidSignature', msg);
}

export function parseAuthorization(header: string): ParsedAuth {
  const m = AUTH_RE.exec(header);
  if (!m) invalid('Authorization header is not a valid AWS4-HMAC-SHA256 signature.');
  const scope = m[1]!.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!)) invalid('Credential scope is not valid.');
  const signedHeaders = m[2]!.split(';');
  if (signedHeaders.some((h) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h))) invalid('SignedHeaders is not valid.');
  return { accessKeyId: scope[0]!, date: scope[1]!, region: scope[2]!, service: scope[3]!, signedHeaders, signature: m[3]! };
}

/** "20260101T120000Z" -> epoch ms, or NaN. */
export function parseAmzDate(v: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(',') : h;
}

function splitQuery(q: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!q) return out;
  for (const part of q.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    let k: string, v: string;
    try {
      k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      v = i < 0 ? '' : decodeURIComponent(part.slice(i + 1));
    } catch {
      throw new GatewayError('BadRequest', 'The query string is not valid percent-encoding.');
    }
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** What the headers alone establish: who claims to sign, when, and over which headers. */
export interface AuthHeaders { parsed: ParsedAuth; key: AccessKey; signedAt: number }

/**
 * Phase 1, before the body is read: Authorization syntax, scope, the 15-minute window and
 * the key (exists, not revoked). Lets the server refuse strangers without buffering their
 * upload. Throws GatewayError (MissingAuthentication, UnknownAccessKey, InvalidSignature,
 * RequestExpired).
 */
export async function checkAuthHeaders(headers: IncomingHttpHeaders, getKey: (id: string) => Promise<AccessKey | undefined>, now: number): Promise<AuthHeaders> {
  const auth = headerValue(headers.authorization);
  if (!auth) throw new GatewayError('MissingAuthentication');
  const p = parseAuthorization(auth);
  if (p.service !== SERVICE) invalid(`Credential should be scoped to correct service: '${SERVICE}'.`);
  if (!/^[a-z0-9-]{1,32}$/.test(p.region)) invalid('Credential scope region is not valid.');

  const amzDate = headerValue(headers['x-amz-date']);
  if (!amzDate || !p.signedHeaders.includes('x-amz-date')) invalid('X-Amz-Date must be present and signed.');
  const signedAt = parseAmzDate(amzDate);
  if (!Number.isFinite(signedAt)) invalid('X-Amz-Date is not in the form YYYYMMDDTHHMMSSZ.');
  if (amzDate.slice(0, 8) !== p.date) invalid('Credential scope date does not match X-Amz-Date.');
  if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) throw new GatewayError('RequestExpired');
  if (!p.signedHeaders.includes('host')) invalid('The host header must be signed.');

  const key = await getKey(p.accessKeyId);
  if (!key || key.revokedAt !== null) throw new GatewayError('UnknownAccessKey');
  return { parsed: p, key, signedAt };
}

/** Both phases at once (for callers that already hold the body). */
export async function verifySigV4(req: SignedRequest, getKey: (id: string) => Promise<AccessKey | undefined>, now: number): Promise<AccessKey> {
  return verifySignature(req, await checkAuthHeaders(req.headers, getKey, now));
}

/**
 * Phase 2, with the body: the payload hash and the signature itself, re-derived by the SDK
 * signer and compared in constant time. Returns the caller's key or throws InvalidSignature.
 */
export async function verifySignature(req: SignedRequest, auth: AuthHeaders): Promise<AccessKey> {
  const { parsed: p, key, signedAt } = auth;
  // The declared payload hash must describe this body; else a signed header could vouch
  // for a body that was swapped in transit.
  const declaredHash = headerValue(req.headers['x-amz-content-sha256']);
  if (declaredHash !== undefined && declaredHash !== UNSIGNED) {
    const actual = createHash('sha256').update(req.body).digest('hex');
    if (!/^[0-9a-f]{64}$/.test(declaredHash) || !safeEqual(declaredHash, actual)) invalid('x-amz-content-sha256 does not match the request body.');
  }
  // An unsigned "UNSIGNED-PAYLOAD" would let anyone swap the body: it must itself be signed.
  if (declaredHash === UNSIGNED && !p.signedHeaders.includes('x-amz-content-sha256')) invalid('x-amz-content-sha256 must be signed.');

  const headers: Record<string, string> = {};
  for (const name of p.signedHeaders) {
    const v = headerValue(req.headers[name]);
    if (v === undefined) invalid(`Signed header "${name}" is missing from the request.`);
    headers[name] = v;
  }
  const qi = req.url.indexOf('?');
  const path = qi < 0 ? req.url : req.url.slice(0, qi);
  const request = new HttpRequest({
    method: req.method,
    protocol: 'http:',
    hostname: headers.host ?? '',
    path,
    query: splitQuery(qi < 0 ? '' : req.url.slice(qi + 1)),
    headers,
    // The signer takes the payload hash from a signed x-amz-content-sha256 when there is one
    // (checked above), else hashes this body.
    body: req.body,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    region: p.region,
    service: SERVICE,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false, // never add a header the client did not sign
  });
  const signed = await signer.sign(request, {
    signingDate: new Date(signedAt),
    signableHeaders: new Set(p.signedHeaders),
    signingRegion: p.region,
    signingService: SERVICE,
  });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1];
  if (!expected || !safeEqual(expected, p.signature)) throw new GatewayError('InvalidSignature');
  return key;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
