// Golden pairs: each golden/*.in.eml must become exactly golden/*.out.eml with the outcome in
// golden/outcomes.json, and every injected pair is cross-checked with postal-mime, an
// independent parser: same text, same attachments, HTML equal to the input's plus the markup.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { injectPixel, pixelMarkup } from './index.js';
import { GOLDEN_PIXEL_URL } from './golden/generate.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const outcomes = JSON.parse(fs.readFileSync(path.join(dir, 'outcomes.json'), 'utf8')) as Record<string, string>;
const names = fs.readdirSync(dir).filter((f) => f.endsWith('.in.eml')).map((f) => f.slice(0, -'.in.eml'.length)).sort();

const parse = (b: Buffer) => PostalMime.parse(b, { forceRfc822Attachments: true, attachmentEncoding: 'base64' });

describe('golden pairs', () => {
  it('has at least 25 shapes, each with an expected outcome', () => {
    expect(names.length).toBeGreaterThanOrEqual(25);
    expect(Object.keys(outcomes).sort()).toEqual(names);
  });

  for (const name of names) {
    it(`${name} -> ${outcomes[name]}`, async () => {
      const input = fs.readFileSync(path.join(dir, `${name}.in.eml`));
      const expected = fs.readFileSync(path.join(dir, `${name}.out.eml`));
      const result = injectPixel(input, GOLDEN_PIXEL_URL);
      expect(result.injected ? 'injected' : result.reason).toBe(outcomes[name]);
      expect(result.output.equals(expected)).toBe(true);
      if (!result.injected) {
        expect(result.output).toBe(input);
        return;
      }
      // one contiguous span changed, and it starts after the top-level header block
      let p = 0;
      while (input[p] === expected[p]) p++;
      expect(p).toBeGreaterThan(input.indexOf('\n\n') === -1 ? input.indexOf('\r\n\r\n') : Math.min(...[input.indexOf('\n\n'), input.indexOf('\r\n\r\n')].filter((i) => i >= 0)));

      const [a, b] = await Promise.all([parse(input), parse(expected)]);
      expect(b.text).toBe(a.text);
      expect(b.attachments.map((x) => [x.mimeType, x.content])).toEqual(a.attachments.map((x) => [x.mimeType, x.content]));
      if (name.includes('utf-16') && !name.includes('utf-16le')) return; // postal-mime reads "utf-16" as LE; checked in inject.test.ts
      if (name.includes('iso-2022-jp')) expect(b.html).toContain('こんにちは');
      const markup = pixelMarkup(GOLDEN_PIXEL_URL);
      expect(b.html!.split(markup).length).toBe(2);
      // the markup, or (29: a line that would pass 998 octets) the markup on a line of its own
      expect([b.html!.replace(markup, ''), b.html!.replace('\n' + markup, '')]).toContain(a.html);
    });
  }
});
