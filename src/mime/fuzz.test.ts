// Fuzz test: the golden inputs, mutated at random (byte flips, cuts, duplicated spans, NULs,
// line-ending swaps, stray boundaries). The injector must never throw (checked without its
// safety net), always finish quickly, and return either the input itself or bytes that parse.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { injectUnguarded } from './inject.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const seeds = fs.readdirSync(dir).filter((f) => f.endsWith('.in.eml')).sort().map((f) => fs.readFileSync(path.join(dir, f)));

type Mutation = (b: Buffer, x: number, y: number, z: number) => Buffer;
const at = (b: Buffer, x: number): number => (b.length === 0 ? 0 : x % b.length);
const MUTATIONS: Mutation[] = [
  (b, x, y) => { const c = Buffer.from(b); if (c.length) c[at(c, x)] = y & 0xff; return c; },
  (b, x) => b.subarray(0, at(b, x)),
  (b, x, y) => Buffer.concat([b.subarray(0, at(b, x)), b.subarray(at(b, x) + (y % 200))]),
  (b, x, y) => Buffer.concat([b.subarray(0, at(b, x) + (y % 300)), b.subarray(at(b, x))]),
  (b, x, y) => Buffer.concat([b.subarray(0, at(b, x)), Buffer.alloc(y % 64), b.subarray(at(b, x))]),
  (b, x, y) => { const i = at(b, x); return Buffer.concat([b.subarray(0, i), Buffer.from(b.toString('latin1', i, i + (y % 500)).replace(/\r\n/g, '\n'), 'latin1'), b.subarray(i + (y % 500))]); },
  (b, x, y, z) => Buffer.concat([b.subarray(0, at(b, x)), Buffer.from(['\r\n--alt--\r\n', '\r\n--m\r\n', '=\r\n', '=Z', '<!--', '</body>', 'Content-Type: multipart/mixed; boundary=q\r\n\r\n'][z % 7]! + (y % 2 ? '' : '\r\n')), b.subarray(at(b, x))]),
  (b, x, y) => { const c = Buffer.from(b); for (let i = 0; i < 20; i++) { const j = at(c, x + i * y); c[j] = c[j]! ^ (1 << (i % 8)); } return c; },
];

describe('fuzz: mutated real messages', () => {
  it('never throws, always terminates, output unchanged or parseable', async () => {
    let injected = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(seeds.length - 1),
        fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }),
        async (seed, muts) => {
          let raw: Buffer = seeds[seed]!;
          for (const [m, x, y, z] of muts) raw = MUTATIONS[m]!(raw, x, y, z);
          runs++;
          const t = performance.now();
          const r = injectUnguarded(raw, 'https://px.example/o/f?x=1');
          expect(performance.now() - t).toBeLessThan(1000);
          if (!r.injected) {
            expect(r.output).toBe(raw);
            return;
          }
          injected++;
          // one contiguous span replaced, the rest byte-identical
          let p = 0;
          while (p < raw.length && raw[p] === r.output[p]) p++;
          let s = 0;
          while (s < raw.length - p && raw[raw.length - 1 - s] === r.output[r.output.length - 1 - s]) s++;
          expect(p + s).toBeLessThanOrEqual(raw.length);
          const parsed = await PostalMime.parse(r.output);
          expect(parsed).toBeTypeOf('object');
        },
      ),
      { numRuns: 1500 },
    );
    expect(runs).toBe(1500);
    expect(injected).toBeGreaterThan(100); // the mutations must not only produce skips
  }, 120_000); // thousands of runs; generous for a loaded 2-core box

  it('survives pure random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => {
        const raw = Buffer.from(bytes);
        const r = injectUnguarded(raw, 'https://px.example/o/f');
        if (!r.injected) expect(r.output).toBe(raw);
      }),
      { numRuns: 2000 },
    );
  }, 120_000);
});
