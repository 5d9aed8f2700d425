// Unit tests of the handler's failure paths over a real SQLite store: an unexpected store
// failure becomes InternalFailure 500 with no detail (logged instead), and an oversize or
// unauthenticated upload is refused without buffering it while the server keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { SESv2Client, ListConfigurationSetsCommand, GetConfigurationSetCommand, SESv2ServiceException } from '@aws-sdk/client-sesv2';
import { loadConfig } from '../config.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/port.js';
import type { Submitter } from '../core/types.js';
import { createApiServer, bodyLimit } from './index.js';

let dir: string;
let store: Store;
let server: http.Server;
let url: string;
const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
const creds = { accessKeyId: 'AKIAUNITINDEX', secretAccessKey: 'unit-index-secret' };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-api-unit-'));
  const real = openSqliteStore({ file: path.join(dir, 'db.sqlite') });
  await real.init();
  await real.createAccessKey({ id: creds.accessKeyId, secret: creds.secretAccessKey, name: 'u', createdAt: Date.now(), revokedAt: null });
  store = real;
  // Fault injection: one store method fails the way a full disk would.
  const faulty = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'getConfigSet') return async () => { throw new Error('SQLITE_FULL: database or disk is full at /secret/path'); };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Store;
  const submitter: Submitter = { submit: async () => { throw new Error('not used'); }, findIdentity: async () => undefined };
  const config = loadConfig({ MAILBEACON_DATA_DIR: dir, MAILBEACON_MAX_MESSAGE_BYTES: '10000' });
  server = createApiServer({ store: faulty, submitter, config, log: (msg, fields) => logs.push({ msg, fields }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createApiServer failure paths', () => {
  it('turns unexpected errors into InternalFailure without detail, and logs them', async () => {
    const ses = new SESv2Client({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    try {
      const err = await ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'x' })).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SESv2ServiceException);
      expect((err as SESv2ServiceException).name).toBe('InternalFailure');
      expect((err as SESv2ServiceException).$metadata.httpStatusCode).toBe(500);
      expect((err as Error).message).not.toContain('SQLITE');
      expect(logs.some((l) => String(l.fields?.error).includes('SQLITE_FULL'))).toBe(true);
      expect(JSON.stringify(logs)).not.toContain(creds.secretAccessKey);
      // Still serving.
      expect((await ses.send(new ListConfigurationSetsCommand({}))).ConfigurationSets).toEqual([]);
    } finally {
      ses.destroy();
    }
  });

  it('refuses oversize uploads (declared or chunked) with 413 in SES shape', async () => {
    const limit = bodyLimit(loadConfig({ MAILBEACON_MAX_MESSAGE_BYTES: '10000' }));
    expect(limit).toBe(14000 + 65536);
    // Unauthenticated, chunked: refused on the headers, the upload is not buffered.
    const chunk = new Uint8Array(64 * 1024).fill(65);
    let sent = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (sent >= 2_000_000) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    const r = await fetch(`${url}/v2/email/outbound-emails`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(r.status).toBe(403);
    expect(r.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    // Declared too large: 413 before anything is read.
    const big = await fetch(`${url}/v2/email/outbound-emails`, { method: 'POST', body: 'x'.repeat(limit + 1) });
    expect(big.status).toBe(413);
    expect(big.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(((await big.json()) as { Code: string }).Code).toBe('BadRequestException');
  });
});
