// The open log: an append-only file beside the SQLite database that the server's pixel group
// commit writes instead of a SQLite transaction. A batch of opens is ONE frame, written with
// one positional write (plus an fdatasync under synchronous=FULL) before any of its 200s; the
// store moves frames into SQLite on its next fan-out and records how far it has read (table
// open_log) in that same transaction, so each frame is taken exactly once. Under FULL the
// fdatasync runs off the event loop (durable()): the next batch gathers while it runs.
// Frame: u32le payload length, u32le CRC-32 of the payload, the payload (the UTF-8 JSON array
// of opens an open_journal row holds). A frame counts only whole and with a matching CRC;
// reading stops at the first that is not: the torn tail of a killed writer, never answered 200.
// One writer (the server), made sure of by lockWriter; any process may read. Only the writer
// truncates, rotates, deletes.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';

const HEADER_BYTES = 8;
/** Longest payload taken as a frame. A batch of 512 opens with 512-character User-Agents is
 *  under 1 MiB, so a larger length is a torn header, not something to allocate for. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Bytes read per read(2) while taking frames. */
const READ_CHUNK = 1024 * 1024;

export function logFile(dbFile: string, generation: number): string {
  return `${dbFile}-opens-${generation}`;
}

export interface Frames { payloads: string[]; end: number }

/** The whole, valid frames in [from, to) of fd; `end` is where the first missing, torn or
 *  corrupt frame starts (or `to`). With decode false only `end` is computed. */
export function readFrames(fd: number, from: number, to: number, decode = true): Frames {
  const payloads: string[] = [];
  let pos = from;
  let need = HEADER_BYTES;
  while (to - pos >= need) {
    const want = Math.min(to - pos, Math.max(READ_CHUNK, need));
    const chunk = Buffer.allocUnsafe(want);
    const got = readFully(fd, chunk, pos);
    let off = 0;
    need = HEADER_BYTES;
    while (got - off >= HEADER_BYTES) {
      const len = chunk.readUInt32LE(off);
      if (len === 0 || len > MAX_FRAME_BYTES) return { payloads, end: pos + off };
      if (got - off < HEADER_BYTES + len) {
        need = HEADER_BYTES + len;
        break;
      }
      const payload = chunk.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
      if (zlib.crc32(payload) !== chunk.readUInt32LE(off + 4)) return { payloads, end: pos + off };
      if (decode) payloads.push(payload.toString('utf8'));
      off += HEADER_BYTES + len;
    }
    pos += off;
    // The file ended early (a reader racing the writer's truncate of a failed write): stop.
    if (got < want) break;
  }
  return { payloads, end: pos };
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Taken by the one process that writes the open log of dbFile, for as long as it writes: an
 * exclusive SQLite lock on a small file beside the database. The OS drops it when the
 * process ends however it ends, so a kill -9 leaves no stale lock. A second writer would
 * put its frames over the first one's, so it is refused instead. Returns the release.
 */
export function lockWriter(dbFile: string): () => void {
  const db = new Database(`${dbFile}-opens.lock`, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(`another process is already writing the open log of ${dbFile}: run one mailbeacon server per data directory (several instances share PostgreSQL instead)`);
    }
    throw e;
  }
  return () => {
    if (db.open) db.close();
  };
}

/** What a process that does not write the log reads: frames of `generation` from `offset`. */
export function readLogFile(dbFile: string, generation: number, offset: number): Frames {
  let fd: number;
  try {
    fd = fs.openSync(logFile(dbFile, generation), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { payloads: [], end: offset };
    throw e;
  }
  try {
    return readFrames(fd, offset, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether the log file of `generation` holds bytes past `offset` (a cheap look for readers). */
export function logHasBytesPast(dbFile: string, generation: number, offset: number): boolean {
  try {
    return fs.statSync(logFile(dbFile, generation)).size > offset;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** The writer's handle on the current generation: appends frames, reads them back. */
export class OpenLogWriter {
  #fd: number;
  #generation: number;
  /** End of the last whole frame this writer knows of: where the next append goes. */
  #size: number;
  #broken: Error | undefined;
  /** End of what an fdatasync has confirmed (sync mode). */
  #synced: number;
  /** fdatasyncs in flight, and a promise that settles when the last one started has. */
  #syncing = 0;
  #lastSync: Promise<void> = Promise.resolve();
  readonly #header = Buffer.allocUnsafe(HEADER_BYTES);

  private constructor(readonly dbFile: string, readonly sync: boolean, fd: number, generation: number, size: number) {
    this.#fd = fd;
    this.#generation = generation;
    this.#size = size;
    this.#synced = size;
  }

  /**
   * Opens (creating) the file of `generation`, of which the database has taken [0, offset).
   * Returns null when the file is shorter than offset (it lost bytes the database already
   * holds: a power cut before an un-synced write reached the disk); the caller then moves the
   * database to a new generation. Otherwise a torn or corrupt tail is cut off: its batch
   * never got an answer.
   */
  static open(dbFile: string, generation: number, offset: number, sync: boolean): OpenLogWriter | null {
    const fd = openForWrite(logFile(dbFile, generation), sync);
    try {
      const size = fs.fstatSync(fd).size;
      if (size < offset) {
        fs.closeSync(fd);
        return null;
      }
      const { end } = readFrames(fd, offset, size, false);
      if (end < size) {
        fs.ftruncateSync(fd, end);
        if (sync) fs.fdatasyncSync(fd);
      }
      return new OpenLogWriter(dbFile, sync, fd, generation, end);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get generation(): number { return this.#generation; }
  get size(): number { return this.#size; }
  /** An fdatasync is in flight: the file must not be closed or switched yet. */
  get syncing(): boolean { return this.#syncing > 0; }

  /** Appends one frame; when it returns the frame is written to the file (a kill -9 keeps it;
   *  a power cut only once durable() resolved). On any failure the file is cut back to where
   *  it was and the error is thrown: nothing is recorded. */
  append(payload: string): void {
    if (this.#broken) throw this.#broken;
    const body = Buffer.from(payload, 'utf8');
    if (body.length === 0 || body.length > MAX_FRAME_BYTES) throw new RangeError(`open log frame of ${body.length} bytes`);
    const h = this.#header;
    h.writeUInt32LE(body.length, 0);
    h.writeUInt32LE(zlib.crc32(body), 4);
    const total = HEADER_BYTES + body.length;
    try {
      const n = fs.writevSync(this.#fd, [h, body], this.#size);
      if (n !== total) throw new Error(`open log: short write (${n} of ${total} bytes)`);
    } catch (e) {
      try {
        fs.ftruncateSync(this.#fd, this.#size);
      } catch (t) {
        // A tail that cannot be cut would sit before the next frame: stop appending until a
        // restart cuts it (open() does).
        this.#broken = new Error(`open log ${logFile(this.dbFile, this.#generation)} cannot be written until restart: ${(t as Error).message}`);
      }
      throw e;
    }
    this.#size += total;
  }

  /**
   * Resolves once every frame appended so far is on disk: at once without sync, otherwise
   * after an fdatasync on the thread pool, so the event loop goes on serving (and the next
   * batch gathers) meanwhile; one fdatasync covers every frame written before it started.
   * After a failed fdatasync nothing is appended until a restart: the kernel may have dropped
   * the unwritten pages, so what the file holds is no longer known.
   */
  durable(): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    const upTo = this.#size;
    if (!this.sync || upTo <= this.#synced) return Promise.resolve();
    this.#syncing++;
    const done = new Promise<void>((resolve, reject) => {
      fs.fdatasync(this.#fd, (err) => {
        this.#syncing--;
        if (err) {
          this.#broken ??= new Error(`open log ${logFile(this.dbFile, this.#generation)} cannot be written until restart: fdatasync failed: ${err.message}`);
          reject(err);
          return;
        }
        if (upTo > this.#synced) this.#synced = upTo;
        resolve();
      });
    });
    this.#lastSync = done.catch(() => {});
    return done;
  }

  /** Frames in [from, size) of the current generation. */
  read(from: number): Frames {
    return readFrames(this.#fd, from, this.#size);
  }

  /** Creates the file of the next generation, before the database is moved to it. */
  prepareNext(): { generation: number; fd: number } {
    const generation = this.#generation + 1;
    const fd = openForWrite(logFile(this.dbFile, generation), this.sync);
    fs.ftruncateSync(fd, 0); // a stray file of that number (never committed to) is not ours
    return { generation, fd };
  }

  /** After the database committed (next.generation, 0): append there, delete the old file. */
  switchTo(next: { generation: number; fd: number }): void {
    const old = this.#fd;
    const oldFile = logFile(this.dbFile, this.#generation);
    if (this.#syncing > 0) throw new Error('open log: switch while an fdatasync is in flight');
    this.#fd = next.fd;
    this.#generation = next.generation;
    this.#size = 0;
    this.#synced = 0;
    fs.closeSync(old);
    fs.rmSync(oldFile, { force: true });
  }

  /** The database was not moved: drop the prepared file. */
  discard(next: { generation: number; fd: number }): void {
    fs.closeSync(next.fd);
    fs.rmSync(logFile(this.dbFile, next.generation), { force: true });
  }

  /** Deletes files of every other generation: all taken (older) or never committed to (newer). */
  removeOtherGenerations(): void {
    const dir = path.dirname(this.dbFile);
    const prefix = `${path.basename(this.dbFile)}-opens-`;
    for (const name of fs.readdirSync(dir)) {
      if (!name.startsWith(prefix)) continue;
      const n = name.slice(prefix.length);
      if (/^\d+$/.test(n) && Number(n) !== this.#generation) fs.rmSync(path.join(dir, name), { force: true });
    }
  }

  /** Waits for every fdatasync in flight, then closes the file. */
  async close(): Promise<void> {
    while (this.#syncing > 0) await this.#lastSync;
    if (this.#fd < 0) return;
    fs.closeSync(this.#fd);
    this.#fd = -1;
    this.#broken = new Error('open log is closed');
  }
}

function openForWrite(file: string, sync: boolean): number {
  const existed = fs.existsSync(file);
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  if (sync && !existed) {
    // A new file survives a power cut only once its directory entry is on disk too.
    const dir = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  }
  return fd;
}

