// Pixel tokens: a compact, versioned, HMAC-SHA256-signed name of a message, so the public
// pixel handler can tell a real open from a forged one without reading the database.
// Layout (base64url, 42 chars): version(1) | keyId(uint16 BE) | messageId(16 bytes of the
// UUID) | mac(12 bytes = HMAC-SHA256(secret, first 19 bytes) truncated, 96 bits, as IPsec does).
// Trusts: nothing in the token until the MAC is checked in constant time. Holds no address.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { PixelUrlFor } from '../core/types.js';
import { HmacSha256 } from './hmac.js';

export const TOKEN_VERSION = 1;
const HEADER_BYTES = 1 + 2 + 16;
const MAC_BYTES = 12;
const TOKEN_BYTES = HEADER_BYTES + MAC_BYTES; // 31
/** Length of the base64url text of a token (no padding). */
export const TOKEN_CHARS = Math.ceil((TOKEN_BYTES * 4) / 3); // 42
const SECRET_BYTES = 32;
/** How often sign/verify look at the keys file for another process's rotation or retirement:
 *  one stat() per interval keeps the hot path free of file I/O. */
const RELOAD_CHECK_MS = 2000;
const MAX_KEY_ID = 0xffff;
export const KEYS_FILE = 'tracking-keys.json';
/** The path prefix of every pixel URL; the handler serves the GIF under it and 404s elsewhere. */
export const PIXEL_PREFIX = '/p/';
export const PIXEL_SUFFIX = '.gif';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The only spelling of a token: 42 base64url characters, and the last one's 4 low bits (past
 *  the 248 bits of the token) zero, so it is one of A, Q, g, w. The decoder would skip other
 *  characters and ignore those bits, letting one token have many spellings. */
const TOKEN_RE = /^[A-Za-z0-9_-]{41}[AQgw]$/;

interface KeyRecord { id: number; secret: string; createdAt: number; retiredAt?: number }
interface KeysFile { current: number; keys: KeyRecord[] }
interface LiveKey { id: number; mac: HmacSha256; retired: boolean }

export class TrackingKeyError extends Error {
  override name = 'TrackingKeyError';
}

/**
 * The signing keys, kept in `<dataDir>/tracking-keys.json` (mode 0600). The current key
 * signs; every key not retired verifies, so URLs in mail already sent keep working after a
 * rotation until the old key is retired. A running process sees another process's rotation
 * or retirement (the CLI edits the file) within RELOAD_CHECK_MS, or at once with `reload()`.
 */
export class TrackingKeys {
  private state: KeysFile;
  private live = new Map<number, LiveKey>();
  private currentKey!: LiveKey;
  private checkedAt = Date.now();
  /** verify() decodes into this: one token at a time, on one thread. */
  private readonly scratch = Buffer.alloc(TOKEN_BYTES);
  private fileStamp = '';

  private constructor(private readonly file: string | null, state: KeysFile) {
    this.state = state;
    this.index();
    this.fileStamp = this.stamp();
  }

  /** Reads the keys file, creating it with one fresh key on first start. */
  static loadOrCreate(dataDir: string): TrackingKeys {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, KEYS_FILE);
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === null) {
      const keys = new TrackingKeys(file, { current: 1, keys: [newKey(1)] });
      // Two processes starting at once (server and CLI) must not each keep a different first
      // key: only one creation wins (link fails if the file exists); the loser reads the winner's.
      if (keys.save(true)) {
        keys.fileStamp = keys.stamp();
        return keys;
      }
      text = readFileSync(file, 'utf8');
    }
    return new TrackingKeys(file, parseKeysFile(file, text));
  }

  /** Keys held in memory only (tests, benchmarks). */
  static inMemory(): TrackingKeys {
    return new TrackingKeys(null, { current: 1, keys: [newKey(1)] });
  }

  /** Re-reads the file (after `mailbeacon keys rotate-tracking` in another process). */
  reload(): void {
    if (!this.file) return;
    const stamp = this.stamp();
    const state = parseKeysFile(this.file, readFileSync(this.file, 'utf8'));
    const previous = this.state;
    this.state = state;
    try {
      this.index();
    } catch (e) {
      this.state = previous;
      this.index();
      throw e;
    }
    this.fileStamp = stamp;
  }

  /** Reloads when the file changed since we last read it, at most once per interval. A bad
   *  file keeps the keys we have (the CLI replaces it atomically, so that is a hand edit). */
  private refresh(): void {
    const now = Date.now();
    if (!this.file || now - this.checkedAt < RELOAD_CHECK_MS) return;
    this.checkedAt = now;
    if (this.stamp() === this.fileStamp) return;
    try {
      this.reload();
    } catch {
      /* keep serving with the keys in memory */
    }
  }

  private stamp(): string {
    if (!this.file) return '';
    try {
      const st = statSync(this.file);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return '';
    }
  }

  get currentKeyId(): number {
    return this.state.current;
  }

  /** Key ids with their state, no secrets (for `mailbeacon keys list`). */
  list(): { id: number; createdAt: number; retiredAt: number | null; current: boolean }[] {
    return this.state.keys.map((k) => ({ id: k.id, createdAt: k.createdAt, retiredAt: k.retiredAt ?? null, current: k.id === this.state.current }));
  }

  /** Adds a new key and makes it the signing key; older keys keep verifying. */
  rotate(): { newKeyId: number } {
    this.reload(); // build on the file as it is now, not on what this process read earlier
    const maxId = this.state.keys.reduce((m, k) => Math.max(m, k.id), 0);
    if (maxId >= MAX_KEY_ID) throw new TrackingKeyError(`tracking key ids are exhausted (max ${MAX_KEY_ID})`);
    const key = newKey(maxId + 1);
    this.state = { current: key.id, keys: [...this.state.keys, key] };
    this.index();
    this.save();
    this.fileStamp = this.stamp();
    return { newKeyId: key.id };
  }

  /** Stops a key from verifying: pixels signed with it record nothing from now on. */
  retire(keyId: number | string): void {
    this.reload();
    const id = Number(keyId);
    const rec = this.state.keys.find((k) => k.id === id);
    if (!rec) throw new TrackingKeyError(`no tracking key with id ${String(keyId)}`);
    if (id === this.state.current) throw new TrackingKeyError(`key ${id} is the current signing key; rotate first`);
    if (rec.retiredAt !== undefined) return;
    this.state = { ...this.state, keys: this.state.keys.map((k) => (k.id === id ? { ...k, retiredAt: Date.now() } : k)) };
    this.index();
    this.save();
    this.fileStamp = this.stamp();
  }

  /** The token for a message id (a lowercase UUID). */
  sign(messageId: string): string {
    if (!UUID_RE.test(messageId)) throw new TrackingKeyError('message id must be a lowercase UUID');
    this.refresh();
    const buf = Buffer.allocUnsafe(TOKEN_BYTES);
    buf[0] = TOKEN_VERSION;
    buf.writeUInt16BE(this.currentKey.id, 1);
    buf.write(messageId.replace(/-/g, ''), 3, 16, 'hex');
    this.currentKey.mac.digest(buf, 0, HEADER_BYTES).copy(buf, HEADER_BYTES, 0, MAC_BYTES);
    return buf.toString('base64url');
  }

  /** The message id a token names, or null for anything forged, truncated, altered or retired. */
  verify(token: string): string | null {
    if (token.length !== TOKEN_CHARS || !TOKEN_RE.test(token)) return null;
    this.refresh();
    const buf = this.scratch;
    if (buf.write(token, 'base64url') !== TOKEN_BYTES || buf[0] !== TOKEN_VERSION) return null;
    const key = this.live.get(buf.readUInt16BE(1));
    if (!key || key.retired) return null;
    const expected = key.mac.digest(buf, 0, HEADER_BYTES).subarray(0, MAC_BYTES);
    if (!timingSafeEqual(expected, buf.subarray(HEADER_BYTES))) return null;
    const hex = buf.toString('hex', 3, HEADER_BYTES);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  private index(): void {
    const live = new Map<number, LiveKey>();
    for (const k of this.state.keys) live.set(k.id, { id: k.id, mac: new HmacSha256(Buffer.from(k.secret, 'base64'), HEADER_BYTES), retired: k.retiredAt !== undefined });
    const current = live.get(this.state.current);
    if (!current || current.retired) throw new TrackingKeyError('the current tracking key is missing or retired');
    this.live = live;
    this.currentKey = current;
  }

  /** Atomic replace (write temp, fsync, rename) so a crash never leaves a torn keys file. */
  /** With `exclusive`, returns false (writing nothing) when the file already exists. */
  private save(exclusive = false): boolean {
    if (!this.file) return true;
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(this.state, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (!exclusive) {
      renameSync(tmp, this.file);
      return true;
    }
    try {
      linkSync(tmp, this.file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        unlinkSync(tmp);
        return false;
      }
      // A file system without hard links: plain rename (the race is then not guarded).
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') {
        renameSync(tmp, this.file);
        return true;
      }
      unlinkSync(tmp);
      throw e;
    }
    unlinkSync(tmp);
    return true;
  }
}

function newKey(id: number): KeyRecord {
  return { id, secret: randomBytes(SECRET_BYTES).toString('base64'), createdAt: Date.now() };
}

function parseKeysFile(file: string, text: string): KeysFile {
  const bad = (why: string): never => {
    throw new TrackingKeyError(`${file}: ${why}`);
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return bad('not valid JSON');
  }
  if (!v || typeof v !== 'object') return bad('expected an object {current, keys}');
  const { current, keys } = v as Partial<KeysFile>;
  if (!Number.isInteger(current) || !Array.isArray(keys) || keys.length === 0) return bad('expected {current: number, keys: [...]}');
  const seen = new Set<number>();
  for (const k of keys) {
    if (!k || !Number.isInteger(k.id) || k.id < 1 || k.id > MAX_KEY_ID || seen.has(k.id)) bad('each key needs a unique integer id 1..65535');
    if (typeof k.secret !== 'string' || Buffer.from(k.secret, 'base64').length < 16) bad(`key ${k.id}: secret must be base64 of at least 16 bytes`);
    if (k.retiredAt !== undefined && typeof k.retiredAt !== 'number') bad(`key ${k.id}: retiredAt must be a number`);
    seen.add(k.id);
  }
  return { current: current as number, keys };
}

/** The PixelUrlFor the send pipeline uses: base URL + "/p/<token>.gif". */
export function createPixelUrlFor(baseUrl: string, keys: TrackingKeys): PixelUrlFor {
  const base = baseUrl.replace(/\/+$/, '');
  return (messageId) => `${base}${PIXEL_PREFIX}${keys.sign(messageId)}${PIXEL_SUFFIX}`;
}
