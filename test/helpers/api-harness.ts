// Test harness for the SES v2 API: the gateway started as `serve` does (real SQLite store in
// a temp dir, real Submitter and pixel tokens, listeners; the background workers left out)
// with an access key made by the CLI. Gives the real @aws-sdk/client-sesv2 client and a
// SigV4-signing fetch for hand-made requests.
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Config } from '../../src/config.js';
import type { Store } from '../../src/store/port.js';
import { startTestGateway } from './gateway.js';
import { sigv4Fetch, type SignOptions } from './sigv4-fetch.js';

export type { SignOptions } from './sigv4-fetch.js';

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

  return {
    url, store, config, credentials, logs,
    signedFetch: (method, pathAndQuery, body, opts) => sigv4Fetch(url, credentials, method, pathAndQuery, body, opts),
    ses: () => new SESv2Client({ endpoint: url, region: 'ru-central1', credentials, maxAttempts: 1 }),
    stop: () => t.stop(),
  };
}
