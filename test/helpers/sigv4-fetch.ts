// A SigV4-signed request (service ses) to our API with the SDK's own signer, for the parts
// of the API the AWS SDK cannot express (our WebhookDestination extension, /v2/mailbeacon/)
// and for hand-made bad requests (other keys, old dates, bodies swapped after signing).
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';

export interface SignOptions {
  secret?: string;
  accessKeyId?: string;
  signingDate?: Date;
  service?: string;
  /** Extra headers sent and signed. */
  headers?: Record<string, string>;
  /** Replace the body after signing (tampering). */
  bodyAfterSigning?: string | Buffer;
  /** Send this stream chunked (no Content-Length) instead of `body`; sign with UNSIGNED-PAYLOAD. */
  stream?: ReadableStream<Uint8Array>;
}

export async function sigv4Fetch(baseUrl: string, credentials: { accessKeyId: string; secretAccessKey: string },
  method: string, pathAndQuery: string, body?: string | Buffer, opts: SignOptions = {}): Promise<Response> {
  const u = new URL(pathAndQuery, baseUrl);
  const query: Record<string, string> = {};
  u.searchParams.forEach((v, k) => { query[k] = v; });
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const req = new HttpRequest({
    method, protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: u.pathname, query,
    headers: {
      host: u.host,
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      ...opts.headers,
    },
    body: payload,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId ?? credentials.accessKeyId, secretAccessKey: opts.secret ?? credentials.secretAccessKey },
    region: 'ru-central1', service: opts.service ?? 'ses', sha256: Hash.bind(null, 'sha256'), applyChecksum: false,
  });
  const signed = await signer.sign(req, { signingDate: opts.signingDate ?? new Date() });
  const headers = { ...signed.headers } as Record<string, string>;
  delete headers.host;
  if (opts.stream) {
    delete headers['content-length'];
    return fetch(u, { method, headers, body: opts.stream, duplex: 'half' } as RequestInit);
  }
  const sent = opts.bodyAfterSigning ?? payload;
  if (sent !== undefined) headers['content-length'] = String(Buffer.byteLength(sent));
  return fetch(u, { method, headers, ...(sent !== undefined ? { body: typeof sent === 'string' ? sent : new Uint8Array(sent) } : {}) });
}
