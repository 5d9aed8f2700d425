// Unit tests of the batching rules; the store here is a recording stub because the rules
// (bounds, ordering, failure isolation) are about the calls made, not about SQLite.
// The real store is exercised in test/tracking.test.ts and test/crash.test.ts.
import { describe, expect, it } from 'vitest';
import type { OpenInput } from '../store/port.js';
import { createOpenRecorder } from './group-commit.js';

const open = (i: number): OpenInput => ({ messageId: `m${i}`, at: i, ipAddress: '127.0.0.1', userAgent: '' });

describe('group commit', () => {
  it('puts opens of one turn into one call, bounded by maxBatch, answering in order', async () => {
    const calls: string[][] = [];
    const rec = createOpenRecorder({ recordOpens: async (opens) => { calls.push(opens.map((o) => o.messageId)); return opens.map((_, i) => i + 1); } }, { maxBatch: 4 });
    const answers: [number, number | null][] = [];
    for (let i = 0; i < 10; i++) rec.record(open(i), (err, seq) => { expect(err).toBeNull(); answers.push([i, seq]); });
    expect(answers).toHaveLength(0); // nothing answered before a commit
    await rec.drain();
    expect(calls).toEqual([['m0', 'm1', 'm2', 'm3'], ['m4', 'm5', 'm6', 'm7'], ['m8', 'm9']]);
    expect(answers.map((a) => a[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(answers[5]).toEqual([5, 2]);
    expect(rec.stats()).toMatchObject({ batches: 3, largestBatch: 4, queued: 0 });
  });

  it('gathers opens arriving while a commit runs into the next one', async () => {
    const calls: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const rec = createOpenRecorder({ recordOpens: async (opens) => { calls.push(opens.length); if (calls.length === 1) await gate; return opens.map(() => 1); } });
    rec.record(open(0), () => {});
    await new Promise((r) => setImmediate(r));
    for (let i = 1; i <= 5; i++) rec.record(open(i), () => {});
    release();
    await rec.drain();
    expect(calls).toEqual([1, 5]);
  });

  it('fails the whole batch when the store throws or answers the wrong length, then recovers', async () => {
    let mode: 'throw' | 'reject' | 'short' | 'ok' = 'throw';
    const rec = createOpenRecorder({
      recordOpens: (opens) => {
        if (mode === 'throw') throw new Error('sync boom');
        if (mode === 'reject') return Promise.reject(new Error('disk full'));
        if (mode === 'short') return Promise.resolve([1]);
        return Promise.resolve(opens.map(() => 7));
      },
    });
    for (const m of ['throw', 'reject', 'short'] as const) {
      mode = m;
      const errs: (Error | null)[] = [];
      rec.record(open(1), (e) => errs.push(e));
      rec.record(open(2), (e) => errs.push(e));
      await rec.drain();
      expect(errs).toHaveLength(2);
      expect(errs.every((e) => e instanceof Error)).toBe(true);
    }
    mode = 'ok';
    const seqs: (number | null)[] = [];
    rec.record(open(3), (e, s) => { expect(e).toBeNull(); seqs.push(s); });
    await rec.drain();
    expect(seqs).toEqual([7]);
  });

  it('a throwing callback does not stop the rest of the batch being answered', async () => {
    let kicked = 0;
    const rec = createOpenRecorder({ recordOpens: async (opens) => opens.map(() => 1) }, { onRecorded: () => { kicked++; } });
    let answered = 0;
    rec.record(open(1), () => { throw new Error('socket gone'); });
    rec.record(open(2), () => { answered++; });
    await rec.drain();
    expect(answered).toBe(1);
    expect(kicked).toBe(1);
  });

  it('does not kick the dispatcher when nothing was recorded', async () => {
    let kicked = 0;
    const rec = createOpenRecorder({ recordOpens: async (opens) => opens.map(() => null) }, { onRecorded: () => { kicked++; } });
    rec.record(open(1), () => {});
    await rec.drain();
    expect(kicked).toBe(0);
  });

  it('rejects a nonsensical configuration', () => {
    const store = { recordOpens: async () => [] };
    expect(() => createOpenRecorder(store, { maxBatch: 0 })).toThrow(/maxBatch/);
  });
});
