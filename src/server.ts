// The composition root: builds the store, the tracking keys and every role from one
// validated Config, and wires them together. Nothing else constructs dependencies.
// Roles hand work to each other only through the store; the kicks below merely shorten
// the wait for the next poll (a lost kick costs latency, never a message).
import { mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { Config, HostPort } from './config.js';
import type { Store } from './store/port.js';
import type { Submitter } from './core/types.js';
import type { Log } from './log.js';
import { openSqliteStore } from './store/sqlite/index.js';
import { openPostgresStore } from './store/postgres/index.js';
import { TrackingKeys, createPixelUrlFor } from './tracking/tokens.js';
import { createTrackingServer } from './tracking/index.js';
import { createSubmitter } from './core/index.js';
import { createApiServer } from './api/index.js';
import { startDeliveryWorker } from './delivery/index.js';
import { startDispatcher } from './events/index.js';
import { startSmtp } from './smtp/index.js';

export const DB_FILE = 'mailbeacon.db';

export interface Gateway {
  apiUrl: string;
  trackingUrl: string;
  smtpPort: number | undefined;
  smtpsPort: number | undefined;
  store: Store;
  keys: TrackingKeys;
  firstStart: boolean;
  trackingMetrics(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * Opens the configured store: the embedded SQLite file in the data dir, or PostgreSQL when
 * MAILBEACON_DATABASE_URL is set (several instances share it). The CLI uses this too,
 * beside a running server (which alone sets openLog: it writes the SQLite open log). `created` is
 * true when the SQLite file did not exist yet.
 */
export async function openStore(config: Pick<Config, 'dataDir' | 'databaseUrl' | 'databaseSchema'> & Partial<Pick<Config, 'sqliteSynchronous'>>,
  opts: { backgroundCheckpoints?: boolean; openLog?: boolean } = {}): Promise<{ store: Store; created: boolean }> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (config.databaseUrl) {
    const store = openPostgresStore({ connectionString: config.databaseUrl, schema: config.databaseSchema });
    await store.init();
    return { store, created: false };
  }
  const file = path.join(config.dataDir, DB_FILE);
  const created = !existsSync(file);
  const store = openSqliteStore({
    file, synchronous: config.sqliteSynchronous, backgroundCheckpoints: opts.backgroundCheckpoints, openLog: opts.openLog,
  });
  await store.init();
  return { store, created };
}

export async function startGateway(config: Config, log: Log): Promise<Gateway> {
  const { store, created } = await openStore(config, { backgroundCheckpoints: true, openLog: true });
  const keys = TrackingKeys.loadOrCreate(config.dataDir);
  const closers: (() => Promise<void>)[] = [];
  try {
    const delivery = config.workers.delivery ? startDeliveryWorker({ store, config, log }) : undefined;
    if (delivery) closers.push(() => delivery.close());
    const dispatcher = config.workers.dispatcher ? startDispatcher({ store, config, log }) : undefined;
    if (dispatcher) closers.push(() => dispatcher.close());

    const inner = createSubmitter({ store, config, pixelUrlFor: createPixelUrlFor(config.trackingBaseUrl, keys) });
    const kick = (): void => {
      delivery?.kick();
      dispatcher?.kick();
    };
    const submitter: Submitter = {
      findIdentity: (a) => inner.findIdentity(a),
      submit: async (req) => {
        const result = await inner.submit(req);
        kick();
        return result;
      },
    };

    const tracking = createTrackingServer({ store, keys, config, onRecorded: () => dispatcher?.kick() });
    closers.push(() => tracking.close());
    await listen(tracking.server, config.trackingListen);

    const api = createApiServer({ store, submitter, config, log, sendRateLimit: config.sendRate ?? undefined });
    closers.push(() => closeServer(api));
    await listen(api, config.apiListen);

    const smtp = await startSmtp({ store, submitter, config, log, onAccepted: kick });
    closers.push(() => smtp.close());

    return {
      apiUrl: urlOf(api),
      trackingUrl: urlOf(tracking.server),
      smtpPort: smtp.ports.smtp,
      smtpsPort: smtp.ports.smtps,
      store,
      keys,
      firstStart: created,
      trackingMetrics: () => ({ ...tracking.metrics() }),
      close: async () => {
        // Front ends first (stop taking work), then workers, then the store.
        for (const c of closers.reverse()) await c().catch((e) => log('close failed', { error: String(e) }));
        await store.close();
      },
    };
  } catch (e) {
    for (const c of closers.reverse()) await c().catch(() => {});
    await store.close();
    throw e;
  }
}

function listen(server: http.Server, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlOf(server: http.Server): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${a.port}`;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections?.();
  });
}
