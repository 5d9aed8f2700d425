import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { KEYS_FILE, TOKEN_CHARS, TrackingKeys, createPixelUrlFor } from './tokens.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mb-keys-'));

describe('tracking tokens', () => {
  it('round-trips a message id and is short', () => {
    const keys = TrackingKeys.inMemory();
    const id = randomUUID();
    const token = keys.sign(id);
    expect(token).toHaveLength(TOKEN_CHARS);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(keys.verify(token)).toBe(id);
    const url = createPixelUrlFor('https://track.example.com/', keys)(id);
    expect(url).toBe(`https://track.example.com/p/${token}.gif`);
    expect(url.length).toBeLessThanOrEqual(100);
  });

  it('keeps the layout of tokens already in sent mail: version | key id | uuid | HMAC-SHA256 truncated to 12 bytes', () => {
    const dir = tmp();
    const secret = randomBytes(32);
    fs.writeFileSync(path.join(dir, KEYS_FILE), JSON.stringify({ current: 7, keys: [{ id: 7, secret: secret.toString('base64'), createdAt: 1 }] }));
    const id = randomUUID();
    const header = Buffer.concat([Buffer.from([1, 0, 7]), Buffer.from(id.replace(/-/g, ''), 'hex')]);
    const token = Buffer.concat([header, createHmac('sha256', secret).update(header).digest().subarray(0, 12)]).toString('base64url');
    const keys = TrackingKeys.loadOrCreate(dir);
    expect(keys.sign(id)).toBe(token);
    expect(keys.verify(token)).toBe(id);
  });

  it('rejects non-UUID message ids when signing', () => {
    const keys = TrackingKeys.inMemory();
    expect(() => keys.sign('alice@example.com')).toThrow(/UUID/);
    expect(() => keys.sign(randomUUID().toUpperCase())).toThrow(/UUID/);
  });

  it('carries nothing reversible to an address: the token depends only on the id and key', () => {
    const keys = TrackingKeys.inMemory();
    const id = randomUUID();
    expect(keys.sign(id)).toBe(keys.sign(id));
    const bytes = Buffer.from(keys.sign(id), 'base64url');
    expect(bytes.subarray(3, 19).toString('hex')).toBe(id.replace(/-/g, ''));
  });

  it('rejects every single-character alteration, truncation and extension', () => {
    const keys = TrackingKeys.inMemory();
    const token = keys.sign(randomUUID());
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let checked = 0;
    for (let i = 0; i < token.length; i++) {
      for (const c of alphabet) {
        if (c === token[i]) continue;
        const altered = token.slice(0, i) + c + token.slice(i + 1);
        expect(keys.verify(altered)).toBeNull();
        checked++;
      }
      expect(keys.verify(token.slice(0, i))).toBeNull();
    }
    expect(checked).toBe(TOKEN_CHARS * 63);
    expect(keys.verify(token + 'A')).toBeNull();
    // characters outside base64url, including standard base64's + and / that decoders accept
    for (const c of ['+', '/', '=', '.', ' ', '%', '\u00e9']) expect(keys.verify(c + token.slice(1))).toBeNull();
    const std = Buffer.from(token, 'base64url').toString('base64').replace(/=+$/, '');
    if (std !== token) expect(keys.verify(std)).toBeNull();
    expect(keys.verify('')).toBeNull();
    expect(keys.verify('%00'.repeat(14))).toBeNull();
  });

  it('rejects a token signed by another server key', () => {
    const a = TrackingKeys.inMemory();
    const b = TrackingKeys.inMemory();
    expect(b.verify(a.sign(randomUUID()))).toBeNull();
  });

  it('creates the keys file 0600 on first start and loads the same keys next time', () => {
    const dir = tmp();
    const k1 = TrackingKeys.loadOrCreate(dir);
    const file = path.join(dir, KEYS_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(json.current).toBe(1);
    expect(json.keys[0]).toMatchObject({ id: 1, createdAt: expect.any(Number) });
    expect(Buffer.from(json.keys[0].secret, 'base64')).toHaveLength(32);
    const id = randomUUID();
    expect(TrackingKeys.loadOrCreate(dir).verify(k1.sign(id))).toBe(id);
  });

  it('two processes creating the keys file at once end up with the same key', async () => {
    const dir = tmp();
    const { spawn } = await import('node:child_process');
    const url = new URL('./tokens.ts', import.meta.url).pathname;
    const script = `import { TrackingKeys } from ${JSON.stringify(url)}; process.stdout.write(TrackingKeys.loadOrCreate(${JSON.stringify(dir)}).sign('00000000-0000-4000-8000-000000000000'));`;
    const run = () => new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
      let out = '';
      c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    const tokens = await Promise.all([run(), run(), run(), run()]);
    expect(new Set(tokens).size).toBe(1);
    expect(TrackingKeys.loadOrCreate(dir).verify(tokens[0]!)).toBe('00000000-0000-4000-8000-000000000000');
    expect(fs.readdirSync(dir)).toEqual([KEYS_FILE]);
  }, 30_000);

  it('rotates: new key signs, old key verifies until retired', () => {
    const dir = tmp();
    const keys = TrackingKeys.loadOrCreate(dir);
    const id = randomUUID();
    const old = keys.sign(id);
    expect(keys.rotate()).toEqual({ newKeyId: 2 });
    const fresh = keys.sign(id);
    expect(fresh).not.toBe(old);
    expect(keys.verify(old)).toBe(id);
    expect(keys.verify(fresh)).toBe(id);
    // another process (the CLI) sees the rotation in the file
    const other = TrackingKeys.loadOrCreate(dir);
    expect(other.currentKeyId).toBe(2);
    expect(other.verify(fresh)).toBe(id);
    expect(() => keys.retire(2)).toThrow(/current/);
    expect(() => keys.retire(9)).toThrow(/no tracking key/);
    keys.retire(1);
    expect(keys.verify(old)).toBeNull();
    expect(keys.verify(fresh)).toBe(id);
    other.reload();
    expect(other.verify(old)).toBeNull();
    expect(other.list().map((k) => [k.id, k.current, k.retiredAt !== null])).toEqual([[1, false, true], [2, true, false]]);
  });

  it('a running process picks up another process\'s rotation and retirement within seconds', () => {
    const dir = tmp();
    const server = TrackingKeys.loadOrCreate(dir);
    const id = randomUUID();
    const old = server.sign(id);
    const cli = TrackingKeys.loadOrCreate(dir);
    cli.rotate();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 3000);
      const fresh = server.sign(id);
      expect(Buffer.from(fresh, 'base64url').readUInt16BE(1)).toBe(2);
      expect(server.verify(old)).toBe(id);
      cli.retire(1);
      expect(server.verify(old)).toBe(id); // not yet: checks are rate-limited
      vi.setSystemTime(Date.now() + 3000);
      expect(server.verify(old)).toBeNull();
      expect(server.verify(fresh)).toBe(id);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a corrupt keys file with a clear message', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, KEYS_FILE), '{"current": 1, "keys": []}');
    expect(() => TrackingKeys.loadOrCreate(dir)).toThrow(/tracking-keys.json/);
    fs.writeFileSync(path.join(dir, KEYS_FILE), 'not json');
    expect(() => TrackingKeys.loadOrCreate(dir)).toThrow(/not valid JSON/);
  });
});
