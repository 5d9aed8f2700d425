// Test harness for the SES v2 API: the gateway started as `serve` does (real SQLite store in
// a temp dir, real Submitter and pixel tokens, listeners; the background workers left out)
// with an access key made by the CLI. Gives the real @aws-sdk/client-sesv2 client and a
// SigV4-signing fetch for hand-made requests.
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import type { Config } from '../../src/config.js';
import type { Store } from '../../src/store/port.js';
import { startTestGateway } from './gateway.js';

export interface ApiHarness {
  url: string;
  store: Store;
  config: Config;
  credentials: { accessKeyId: string; secretAccessKey: string };
  logs: { msg: string; fields?: Record<string, unknown> }[];
  ses(): SESv2Client;
  /** Sends a SigV4-signed request (service ses) with the harness key unless overridden. */
  signedFetch(method: string, pathAndQuery: string, body?: string | Buffer, opts?: SignOptions): Promise<Response>;
  stop(): Promise<void>;
}

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

export async function startApiHarness(env: Record<string, string> = {}): Promise<ApiHarness> {
  const logs: ApiHarness['logs'] = [];
  const log = (msg: string, fields?: Record<string, unknown>) => logs.push({ msg, fields });
  // The API's own tests look at queue state as the API left it: no background workers.
  const t = await startTestGateway(
    { MAILBEACON_TRACKING_BASE_URL: 'http://127.0.0.1:8788', MAILBEACON_ALLOW_PRIVATE_WEBHOOKS: 'true', ...env },
    { log, workers: false });
  const { config, credentials } = t;
  const url = t.gw.apiUrl;
  const store = t.gw.store;

  async function signedFetch(method: string, pathAndQuery: string, body?: string | Buffer, opts: SignOptions = {}): Promise<Response> {
    const u = new URL(pathAndQuery, url);
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

  return {
    url, store, config, credentials, logs, signedFetch,
    ses: () => new SESv2Client({ endpoint: url, region: 'ru-central1', credentials, maxAttempts: 1 }),
    stop: () => t.stop(),
  };
}
