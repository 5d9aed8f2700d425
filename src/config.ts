// Configuration: read once at start-up from MAILBEACON_* environment variables and an
// optional JSON config file (MAILBEACON_CONFIG; the environment wins), validated here.
// A typo, 0 or NaN never silently turns a limit off: a bad value stops start-up with a
// message naming the variable.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface HostPort { host: string; port: number }

export interface Config {
  dataDir: string;
  /** null = the embedded SQLite file in dataDir; else a postgres:// URL shared by instances. */
  databaseUrl: string | null;
  databaseSchema: string;
  /** The embedded store's durability: NORMAL survives a crash of the process, FULL also a
   *  power cut (an fdatasync per commit and per batch of opens). */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  apiListen: HostPort;
  trackingListen: HostPort;
  trackingBaseUrl: string;           // no trailing slash
  relayUrl: string | null;           // null = capture mode
  smtpListen: HostPort | null;       // null = off
  smtpsListen: HostPort | null;
  smtpTlsCert: string | null;        // PEM file paths
  smtpTlsKey: string | null;
  smtpAllowInsecureAuth: boolean;
  /** Regions whose SES SMTP password derivation is accepted (SES: per region). */
  smtpRegions: string[];
  trustedProxies: string[];          // CIDRs / addresses
  allowPrivateWebhooks: boolean;
  maxMessageBytes: number;
  maxRecipients: number;
  /** SES "MaxSendRate": SendEmail calls per second per access key (token bucket); null = no limit. */
  sendRate: { perSecond: number; burst: number } | null;
  deliveryMaxAgeMs: number;          // relay retries give up (Bounce) after this
  notificationMaxAgeMs: number;      // webhook/stream retries dead-letter after this
  workers: { delivery: boolean; dispatcher: boolean };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Source = Record<string, string | undefined>;

const KEYS = {
  dataDir: 'MAILBEACON_DATA_DIR',
  databaseUrl: 'MAILBEACON_DATABASE_URL',
  databaseSchema: 'MAILBEACON_DATABASE_SCHEMA',
  sqliteSynchronous: 'MAILBEACON_SQLITE_SYNCHRONOUS',
  apiListen: 'MAILBEACON_API_LISTEN',
  trackingListen: 'MAILBEACON_TRACKING_LISTEN',
  trackingBaseUrl: 'MAILBEACON_TRACKING_BASE_URL',
  relayUrl: 'MAILBEACON_RELAY_URL',
  smtpListen: 'MAILBEACON_SMTP_LISTEN',
  smtpsListen: 'MAILBEACON_SMTPS_LISTEN',
  smtpTlsCert: 'MAILBEACON_SMTP_TLS_CERT',
  smtpTlsKey: 'MAILBEACON_SMTP_TLS_KEY',
  smtpAllowInsecureAuth: 'MAILBEACON_SMTP_ALLOW_INSECURE_AUTH',
  smtpRegions: 'MAILBEACON_SMTP_REGIONS',
  trustedProxies: 'MAILBEACON_TRUSTED_PROXIES',
  allowPrivateWebhooks: 'MAILBEACON_ALLOW_PRIVATE_WEBHOOKS',
  maxMessageBytes: 'MAILBEACON_MAX_MESSAGE_BYTES',
  maxRecipients: 'MAILBEACON_MAX_RECIPIENTS',
  maxSendRate: 'MAILBEACON_MAX_SEND_RATE',
  sendBurst: 'MAILBEACON_SEND_BURST',
  deliveryMaxAge: 'MAILBEACON_DELIVERY_MAX_AGE',
  notificationMaxAge: 'MAILBEACON_NOTIFICATION_MAX_AGE',
} as const;

export const CONFIG_ENV_VARS: readonly string[] = Object.values(KEYS);

/** Loads config from the environment, merged over MAILBEACON_CONFIG (a JSON file whose
 *  keys are the same variable names, e.g. {"MAILBEACON_API_LISTEN": "0.0.0.0:8787"}). */
export function loadConfig(env: Source = process.env): Config {
  let file: Source = {};
  const configPath = env.MAILBEACON_CONFIG;
  if (configPath) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new ConfigError(`MAILBEACON_CONFIG: cannot read ${configPath} as JSON: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('MAILBEACON_CONFIG: the file must hold a JSON object');
    for (const [k, v] of Object.entries(parsed)) {
      if (!k.startsWith('MAILBEACON_') || !CONFIG_ENV_VARS.includes(k)) throw new ConfigError(`MAILBEACON_CONFIG: unknown setting "${k}" (known: ${CONFIG_ENV_VARS.join(', ')})`);
      file[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  const src: Source = { ...file, ...env };
  const get = (k: string): string | undefined => {
    const v = src[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const dataDir = path.resolve(get(KEYS.dataDir) ?? './data');
  const trackingBaseUrl = parseBaseUrl(KEYS.trackingBaseUrl, get(KEYS.trackingBaseUrl) ?? 'http://localhost:8788');
  const relay = get(KEYS.relayUrl);
  if (relay !== undefined) parseRelayUrl(relay);

  const databaseUrl = get(KEYS.databaseUrl);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`${KEYS.databaseUrl}: expected postgres://user:pass@host:5432/db (unset = embedded SQLite)`);
  }
  const databaseSchema = get(KEYS.databaseSchema) ?? 'mailbeacon';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) throw new ConfigError(`${KEYS.databaseSchema}: lower-case letters, digits and _ only, got "${databaseSchema}"`);

  const sqliteSynchronous = (get(KEYS.sqliteSynchronous) ?? 'NORMAL').toUpperCase();
  if (sqliteSynchronous !== 'NORMAL' && sqliteSynchronous !== 'FULL') {
    throw new ConfigError(`${KEYS.sqliteSynchronous}: NORMAL (survives a process crash) or FULL (also a power cut), got "${get(KEYS.sqliteSynchronous)}"`);
  }

  return {
    dataDir,
    databaseUrl: databaseUrl ?? null,
    databaseSchema,
    sqliteSynchronous,
    apiListen: parseHostPort(KEYS.apiListen, get(KEYS.apiListen) ?? '127.0.0.1:8787'),
    trackingListen: parseHostPort(KEYS.trackingListen, get(KEYS.trackingListen) ?? '0.0.0.0:8788'),
    trackingBaseUrl,
    relayUrl: relay ?? null,
    smtpListen: parseOptionalListen(KEYS.smtpListen, get(KEYS.smtpListen), '127.0.0.1:2587'),
    smtpsListen: parseOptionalListen(KEYS.smtpsListen, get(KEYS.smtpsListen), '127.0.0.1:2465'),
    smtpTlsCert: get(KEYS.smtpTlsCert) ?? null,
    smtpTlsKey: get(KEYS.smtpTlsKey) ?? null,
    smtpAllowInsecureAuth: parseBool(KEYS.smtpAllowInsecureAuth, get(KEYS.smtpAllowInsecureAuth), false),
    smtpRegions: (get(KEYS.smtpRegions) ?? 'us-east-1,ru-central1').split(',').map((s) => s.trim()).filter(Boolean),
    trustedProxies: (get(KEYS.trustedProxies) ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    allowPrivateWebhooks: parseBool(KEYS.allowPrivateWebhooks, get(KEYS.allowPrivateWebhooks), false),
    maxMessageBytes: parsePositiveInt(KEYS.maxMessageBytes, get(KEYS.maxMessageBytes), 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    maxRecipients: parsePositiveInt(KEYS.maxRecipients, get(KEYS.maxRecipients), 50, 1, 10_000),
    sendRate: parseSendRate(get(KEYS.maxSendRate), get(KEYS.sendBurst)),
    deliveryMaxAgeMs: parseDuration(KEYS.deliveryMaxAge, get(KEYS.deliveryMaxAge), 24 * 3600_000),
    notificationMaxAgeMs: parseDuration(KEYS.notificationMaxAge, get(KEYS.notificationMaxAge), 3 * 24 * 3600_000),
    workers: { delivery: true, dispatcher: true },
  };
}

export function parseHostPort(name: string, value: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name}: expected host:port (e.g. 127.0.0.1:8787), got "${value}"`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

function parseOptionalListen(name: string, value: string | undefined, dflt: string): HostPort | null {
  if (value === 'off' || value === 'false') return null;
  return parseHostPort(name, value ?? dflt);
}

function parseBaseUrl(name: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(`${name}: not a URL: "${value}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${name}: must be http:// or https://, got "${value}"`);
  if (u.search || u.hash || u.username) throw new ConfigError(`${name}: must not carry a query, fragment or credentials`);
  return u.toString().replace(/\/+$/, '');
}

export function parseRelayUrl(value: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(`MAILBEACON_RELAY_URL: not a URL (expected smtp://user:pass@host:587 or smtps://...)`);
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new ConfigError('MAILBEACON_RELAY_URL: scheme must be smtp:// or smtps://');
  if (!u.hostname) throw new ConfigError('MAILBEACON_RELAY_URL: host is missing');
  if (u.port && (Number(u.port) < 1 || Number(u.port) > 65535)) throw new ConfigError('MAILBEACON_RELAY_URL: bad port');
  return u;
}

function parseBool(name: string, value: string | undefined, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name}: expected true or false, got "${value}"`);
}

function parsePositiveInt(name: string, value: string | undefined, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name}: expected a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${name}: must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Unset = no limit; a rate must be a positive decimal; burst defaults to one second's worth. */
function parseSendRate(rate: string | undefined, burst: string | undefined): Config['sendRate'] {
  if (rate === undefined) {
    if (burst !== undefined) throw new ConfigError(`${KEYS.sendBurst}: set ${KEYS.maxSendRate} too`);
    return null;
  }
  const perSecond = /^\d+(\.\d+)?$/.test(rate) ? Number(rate) : NaN;
  if (!(perSecond > 0)) throw new ConfigError(`${KEYS.maxSendRate}: expected messages per second greater than zero (e.g. 14 or 0.5), got "${rate}"`);
  return { perSecond, burst: parsePositiveInt(KEYS.sendBurst, burst, Math.max(1, Math.ceil(perSecond)), 1, 1_000_000) };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** "90s", "15m", "24h", "3d" or plain milliseconds. Must be > 0. */
export function parseDuration(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!m) throw new ConfigError(`${name}: expected a duration like 90s, 15m, 24h or 3d, got "${value}"`);
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  if (!(ms > 0)) throw new ConfigError(`${name}: must be greater than zero`);
  return ms;
}
