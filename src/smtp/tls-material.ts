// TLS key and certificate for the SMTP listeners (STARTTLS and implicit TLS, RFC 3207/8314).
// Operator-supplied PEM files win; otherwise a self-signed pair is generated once into the
// data dir (one file, written atomically, mode 0600) and reused, and the log says so.
// Trusts the config paths; validates the pair with tls.createSecureContext before use.
import { X509Certificate, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import type { Config } from '../config.js';

export type SmtpLog = (m: string, f?: Record<string, unknown>) => void;

/** Key and certificate in one file so a reader never sees a key from one run and a cert from another. */
export const SELF_SIGNED_FILE = 'smtp-tls-selfsigned.pem';
const SELF_SIGNED_DAYS = 825; // the longest validity clients still tolerate for a server certificate
/** Regenerate a generated certificate this long before it expires, so clients never see an expired one. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface TlsMaterial { key: string; cert: string; generated: boolean }

export async function ensureTlsMaterial(config: Config, log: SmtpLog = () => {}): Promise<TlsMaterial> {
  if (config.smtpTlsCert || config.smtpTlsKey) {
    if (!config.smtpTlsCert || !config.smtpTlsKey) {
      throw new Error('SMTP TLS: set both MAILBEACON_SMTP_TLS_CERT and MAILBEACON_SMTP_TLS_KEY, or neither (a self-signed pair is then generated)');
    }
    const cert = readPem(config.smtpTlsCert, 'MAILBEACON_SMTP_TLS_CERT');
    const key = readPem(config.smtpTlsKey, 'MAILBEACON_SMTP_TLS_KEY');
    checkPair(key, cert, `${config.smtpTlsCert} / ${config.smtpTlsKey}`);
    return { key, cert, generated: false };
  }

  const file = path.join(config.dataDir, SELF_SIGNED_FILE);
  const existing = readSelfSigned(file);
  if (existing) {
    const validTo = Date.parse(new X509Certificate(existing.cert).validTo);
    if (validTo - Date.now() > RENEW_BEFORE_MS) return { ...existing, generated: false };
    log('smtp: self-signed TLS certificate expires soon; generating a new one', { file });
  }

  const host = os.hostname() || 'localhost';
  const notBeforeDate = new Date(Date.now() - 3600_000); // tolerate small clock skew on clients
  const pems = await generate([{ name: 'commonName', value: host }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + SELF_SIGNED_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [
        { type: 2, value: host }, { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' },
      ] },
    ],
  });
  const material = { key: pems.private.trim(), cert: pems.cert.trim() };
  checkPair(material.key, material.cert, 'generated pair');
  mkdirSync(config.dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${material.key}\n${material.cert}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  const fingerprint = createHash('sha256').update(new X509Certificate(material.cert).raw).digest('hex');
  log('smtp: no TLS certificate configured; generated a self-signed one (set MAILBEACON_SMTP_TLS_CERT and MAILBEACON_SMTP_TLS_KEY for production)', {
    file, commonName: host, sha256Fingerprint: fingerprint,
  });
  return { ...material, generated: true };
}

function readPem(file: string, name: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readSelfSigned(file: string): { key: string; cert: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(text)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (!key || !cert) throw new Error(`SMTP TLS: ${file} is damaged (expected a private key and a certificate); delete it to generate a new pair`);
  checkPair(key, cert, file);
  return { key, cert };
}

/** Fails start-up with a clear message rather than at the first client's handshake. */
function checkPair(key: string, cert: string, what: string): void {
  try {
    tls.createSecureContext({ key, cert });
  } catch (e) {
    throw new Error(`SMTP TLS: ${what}: key and certificate are not a usable pair (${(e as Error).message})`);
  }
}
