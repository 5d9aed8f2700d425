// TLS material: generated once into the data dir and reused; configured files win and are
// checked; half a configuration or a damaged file fails start-up with a clear message.
import { describe, it, expect, afterAll } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { ensureTlsMaterial, SELF_SIGNED_FILE } from './tls-material.js';

const dirs: string[] = [];
function configIn(extra: Record<string, string> = {}): Config {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-smtp-tls-'));
  dirs.push(dir);
  return loadConfig({ MAILBEACON_DATA_DIR: dir, ...extra });
}
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('ensureTlsMaterial', () => {
  it('generates a self-signed pair once, logs it, then reuses it', async () => {
    const config = configIn();
    const logs: string[] = [];
    const first = await ensureTlsMaterial(config, (m) => logs.push(m));
    expect(first.generated).toBe(true);
    expect(logs.some((m) => m.includes('self-signed'))).toBe(true);
    const file = path.join(config.dataDir, SELF_SIGNED_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const x = new X509Certificate(first.cert);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(Date.parse(x.validTo)).toBeGreaterThan(Date.now() + 365 * 86_400_000);

    const second = await ensureTlsMaterial(config, (m) => logs.push(m));
    expect(second.generated).toBe(false);
    expect(second.cert).toBe(first.cert);
    expect(second.key).toBe(first.key);
  });

  it('uses configured files and rejects a mismatched pair', async () => {
    const a = await ensureTlsMaterial(configIn());
    const b = await ensureTlsMaterial(configIn());
    const dir = dirs[dirs.length - 1]!;
    writeFileSync(path.join(dir, 'cert.pem'), a.cert);
    writeFileSync(path.join(dir, 'key.pem'), a.key);
    writeFileSync(path.join(dir, 'other-key.pem'), b.key);
    const ok = await ensureTlsMaterial(configIn({ MAILBEACON_SMTP_TLS_CERT: path.join(dir, 'cert.pem'), MAILBEACON_SMTP_TLS_KEY: path.join(dir, 'key.pem') }));
    expect(ok).toEqual({ key: a.key, cert: a.cert, generated: false });
    await expect(ensureTlsMaterial(configIn({ MAILBEACON_SMTP_TLS_CERT: path.join(dir, 'cert.pem'), MAILBEACON_SMTP_TLS_KEY: path.join(dir, 'other-key.pem') })))
      .rejects.toThrow(/not a usable pair/);
  });

  it('refuses half a configuration, a missing file and a damaged generated file', async () => {
    await expect(ensureTlsMaterial(configIn({ MAILBEACON_SMTP_TLS_CERT: '/nonexistent/cert.pem' }))).rejects.toThrow(/both/);
    await expect(ensureTlsMaterial(configIn({ MAILBEACON_SMTP_TLS_CERT: '/nonexistent/c.pem', MAILBEACON_SMTP_TLS_KEY: '/nonexistent/k.pem' })))
      .rejects.toThrow(/MAILBEACON_SMTP_TLS_CERT: cannot read/);
    const config = configIn();
    writeFileSync(path.join(config.dataDir, SELF_SIGNED_FILE), 'garbage');
    await expect(ensureTlsMaterial(config)).rejects.toThrow(/damaged/);
    expect(readFileSync(path.join(config.dataDir, SELF_SIGNED_FILE), 'utf8')).toBe('garbage');
  });
});
