// The open log's file mechanics on real files: frames read back whole, a torn or corrupt
// tail ends the read (and is cut by the writer at open), a failed write leaves nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logFile, OpenLogWriter, readFrames, readLogFile } from './open-log.js';

const dirs: string[] = [];
function dbFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-openlog-'));
  dirs.push(d);
  return path.join(d, 'store.db');
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function writer(db: string, generation = 1, offset = 0): OpenLogWriter {
  const w = OpenLogWriter.open(db, generation, offset, false);
  if (!w) throw new Error('expected a writer');
  return w;
}

describe('open log', async () => {
  it('reads back whole frames in order, from any frame boundary', async () => {
    const db = dbFile();
    const w = writer(db);
    const payloads = ['[["a",1,1,"::1","ua"]]', '[["b",1,2,"::1","é ✓ 😀"]]', '[["a",2,3,"::1",""]]'];
    const ends: number[] = [];
    for (const p of payloads) {
      w.append(p);
      ends.push(w.size);
    }
    expect(fs.statSync(logFile(db, 1)).size).toBe(w.size);
    expect(w.read(0)).toEqual({ payloads, end: w.size });
    expect(w.read(ends[0]!)).toEqual({ payloads: payloads.slice(1), end: w.size });
    expect(readLogFile(db, 1, ends[1]!)).toEqual({ payloads: payloads.slice(2), end: w.size });
    expect(readLogFile(db, 7, 0)).toEqual({ payloads: [], end: 0 }); // no such generation
    await w.close();
  });

  it('stops at a torn tail, a corrupt payload or a garbage length; the writer cuts the tail at open', async () => {
    const db = dbFile();
    const w = writer(db);
    w.append('["first"]');
    const one = w.size;
    w.append('["second"]');
    const two = w.size;
    await w.close();
    const file = logFile(db, 1);
    const whole = fs.readFileSync(file);

    // A torn third frame: its header and half its payload.
    const torn = Buffer.concat([whole, whole.subarray(one, one + 8 + 3)]);
    fs.writeFileSync(file, torn);
    expect(readLogFile(db, 1, 0)).toEqual({ payloads: ['["first"]', '["second"]'], end: two });

    // One flipped payload byte in the second frame: reading ends after the first.
    const corrupt = Buffer.from(whole);
    corrupt[one + 8 + 2]! ^= 0x01;
    fs.writeFileSync(file, corrupt);
    expect(readLogFile(db, 1, 0)).toEqual({ payloads: ['["first"]'], end: one });

    // A zero or absurd length is not a frame.
    fs.writeFileSync(file, Buffer.concat([whole.subarray(0, one), Buffer.alloc(16)]));
    expect(readLogFile(db, 1, 0).end).toBe(one);
    const huge = Buffer.alloc(12);
    huge.writeUInt32LE(0xffffffff, 0);
    fs.writeFileSync(file, Buffer.concat([whole.subarray(0, one), huge]));
    expect(readLogFile(db, 1, 0).end).toBe(one);

    // The writer, opening over the torn file, cuts it back and appends after the last frame.
    fs.writeFileSync(file, torn);
    const again = writer(db, 1, one);
    expect(again.size).toBe(two);
    expect(fs.statSync(file).size).toBe(two);
    again.append('["third"]');
    expect(again.read(0).payloads).toEqual(['["first"]', '["second"]', '["third"]']);
    await again.close();
  });

  it('refuses to append below what the database already took: a file shorter than the read position', async () => {
    const db = dbFile();
    const w = writer(db);
    w.append('["x"]');
    const size = w.size;
    await w.close();
    expect(OpenLogWriter.open(db, 1, size + 1, false)).toBeNull();
    expect(OpenLogWriter.open(db, 1, size, false)).not.toBeNull();
  });

  it('reads a frame larger than one read chunk', async () => {
    const db = dbFile();
    const w = writer(db);
    const big = JSON.stringify(['x'.repeat(3 * 1024 * 1024)]);
    w.append('["before"]');
    w.append(big);
    w.append('["after"]');
    const fd = fs.openSync(logFile(db, 1), 'r');
    const frames = readFrames(fd, 0, w.size);
    fs.closeSync(fd);
    expect(frames.payloads.map((p) => p.length)).toEqual(['["before"]'.length, big.length, '["after"]'.length]);
    expect(frames.payloads[1]).toBe(big);
    expect(frames.end).toBe(w.size);
    await w.close();
  });

  // /dev/full (Linux): a device whose writes fail with ENOSPC.
  it.skipIf(!fs.existsSync('/dev/full'))('a failed write throws and leaves the log as it was', async () => {
    const db = dbFile();
    fs.symlinkSync('/dev/full', logFile(db, 1));
    const w = writer(db);
    expect(() => w.append('["lost"]')).toThrow(/ENOSPC/);
    expect(w.size).toBe(0);
    expect(() => w.append('["lost too"]')).toThrow();
    expect(w.size).toBe(0);
    await w.close();
  });

  it('under FULL, durable() resolves once an fdatasync covered every frame written before it', async () => {
    const db = dbFile();
    const w = OpenLogWriter.open(db, 1, 0, true)!;
    await w.durable(); // nothing written: resolves at once
    expect(w.syncing).toBe(false);
    w.append('["a"]');
    const first = w.durable();
    expect(w.syncing).toBe(true);
    // A switch to the next file must wait for it (the store's rotation checks syncing first).
    const next = w.prepareNext();
    expect(() => w.switchTo(next)).toThrow(/fdatasync is in flight/);
    w.discard(next);
    w.append('["b"]');
    const second = w.durable();
    const closed = w.close(); // waits for both
    await Promise.all([first, second, closed]);
    expect(w.syncing).toBe(false);
    expect(readLogFile(db, 1, 0).payloads).toEqual(['["a"]', '["b"]']);
    await expect(w.durable()).rejects.toThrow(/closed/);
  });

  it('moves to the next generation and removes the files of the others', async () => {
    const db = dbFile();
    const w = writer(db);
    w.append('["old"]');
    fs.writeFileSync(logFile(db, 9), 'stray'); // never committed to
    const next = w.prepareNext();
    w.switchTo(next);
    expect(w.generation).toBe(2);
    expect(w.size).toBe(0);
    expect(fs.existsSync(logFile(db, 1))).toBe(false);
    w.append('["new"]');
    w.removeOtherGenerations();
    expect(fs.readdirSync(path.dirname(db)).sort()).toEqual(['store.db-opens-2']);
    expect(readLogFile(db, 2, 0).payloads).toEqual(['["new"]']);
    const unused = w.prepareNext();
    w.discard(unused);
    expect(fs.existsSync(logFile(db, 3))).toBe(false);
    await w.close();
  });
});
