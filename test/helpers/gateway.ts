// Whole-service test harness: boots the real gateway (in-process, real SQLite file in a
// temp dir, listeners on free loopback ports), runs the real CLI (dist/cli.js) against
// the same data dir, and builds a real @aws-sdk/client-sesv2 client for it.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { loadConfig, type Config } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { silentLog, createLogger, type Log } from '../../src/log.js';
import { sigv4Fetch } from './sigv4-fetch.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'dist/src/cli.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestGateway {
  gw: Gateway;
  config: Config;
  dataDir: string;
  env: Record<string, string>;
  cli(args: string[]): { status: number | null; stdout: string; stderr: string };
  credentials: { accessKeyId: string; secretAccessKey: string };
  ses(): SESv2Client;
  stop(): Promise<void>;
}

/** Starts a gateway; `env` overrides MAILBEACON_* settings (relay URL etc.). */
export async function startTestGateway(env: Record<string, string> = {},
  opts: { beforeStart?: (dataDir: string) => void; log?: Log; workers?: boolean } = {}): Promise<TestGateway> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-test-'));
  const trackingPort = await freePort();
  const fullEnv: Record<string, string> = {
    MAILBEACON_DATA_DIR: dataDir,
    MAILBEACON_API_LISTEN: '127.0.0.1:0',
    MAILBEACON_TRACKING_LISTEN: `127.0.0.1:${trackingPort}`,
    MAILBEACON_TRACKING_BASE_URL: `http://127.0.0.1:${trackingPort}`,
    MAILBEACON_SMTP_LISTEN: '127.0.0.1:0',
    MAILBEACON_SMTPS_LISTEN: '127.0.0.1:0',
    MAILBEACON_SMTP_ALLOW_INSECURE_AUTH: 'true',
    MAILBEACON_ALLOW_PRIVATE_WEBHOOKS: 'true',
    ...env,
  };
  const config = loadConfig(fullEnv);
  // workers: false leaves out the delivery worker and dispatcher, for tests that look at
  // queue state the workers would otherwise move on.
  if (opts.workers === false) config.workers = { delivery: false, dispatcher: false };
  opts.beforeStart?.(dataDir);
  // MAILBEACON_TEST_LOG=1 shows the gateway's log while debugging a test.
  const gw = await startGateway(config, opts.log ?? (process.env.MAILBEACON_TEST_LOG ? createLogger() : silentLog));
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...fullEnv }, encoding: 'utf8', timeout: 20_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const created = cli(['keys', 'create', '--name', 'test']);
  if (created.status !== 0) throw new Error(`keys create failed: ${created.stderr}`);
  const credentials = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
  return {
    gw, config, dataDir, env: fullEnv, cli, credentials,
    ses: () => new SESv2Client({ endpoint: gw.apiUrl, region: 'ru-central1', credentials, maxAttempts: 1 }),
    stop: async () => {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000, everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A SigV4-signed JSON request to the gateway's API with the harness key; the answer parsed. */
export async function signedFetch(t: TestGateway, method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await sigv4Fetch(t.gw.apiUrl, t.credentials, method, pathAndQuery, body === undefined ? undefined : JSON.stringify(body));
  const text = await res.text();
  let json: any = text;
  try { json = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  return { status: res.status, json, headers: res.headers };
}
