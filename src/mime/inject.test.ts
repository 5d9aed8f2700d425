// Unit tests for injectPixel's edges and the header helpers, on hand-made messages; hostile
// inputs (deep nesting, huge header lines, NULs) check the limits.ts bounds hold in time.

import { describe, expect, it } from 'vitest';
import { injectPixel, pixelMarkup, prependHeaders, readHeaders, removeHeaders } from './index.js';
import { MAX_MESSAGE_BYTES } from './limits.js';

const URL = 'https://px.example/o/tok';
const M = pixelMarkup(URL);

describe('pixelMarkup', () => {
  it('is ASCII, 1x1, alt-empty, border 0, no display:none, URL escaped', () => {
    const m = pixelMarkup('https://x.example/p?a=1&b="<>\'é');
    expect(m).toMatch(/^[\x20-\x7e]+$/);
    expect(m).toContain('width="1" height="1" alt="" border="0"');
    expect(m).not.toContain('display:none');
    expect(m).toContain('src="https://x.example/p?a=1&amp;b=&quot;&lt;&gt;&#39;%C3%A9"');
  });
  it('never throws on a lone surrogate', () => {
    expect(pixelMarkup('https://x/\ud800')).toContain('%EF%BF%BD');
  });
});

describe('injectPixel', () => {
  it('splices one span and keeps everything else', () => {
    const raw = Buffer.from('Subject: x\r\nContent-Type: text/html\r\n\r\n<b>x</b></body>\r\n');
    const r = injectPixel(raw, URL);
    expect(r.injected).toBe(true);
    expect(r.output.toString()).toBe(`Subject: x\r\nContent-Type: text/html\r\n\r\n<b>x</b>${M}</body>\r\n`);
  });

  it('writes the markup in UTF-16BE without BOM (RFC 2781 default) and keeps it decodable', () => {
    const html = Buffer.from('<p>Привет</p></body>', 'utf16le').swap16();
    const raw = Buffer.concat([Buffer.from('Content-Type: text/html; charset=utf-16\r\nContent-Transfer-Encoding: binary\r\n\r\n'), html]);
    const r = injectPixel(raw, URL);
    expect(r.injected).toBe(true);
    const body = r.output.subarray(raw.length - html.length);
    expect(new TextDecoder('utf-16be').decode(body)).toBe(`<p>Привет</p>${M}</body>`);
  });

  it('reads golden 18 (UTF-16 BE with BOM in base64) correctly', async () => {
    const fs = await import('node:fs');
    const out = fs.readFileSync(new globalThis.URL('./golden/18-charset-utf-16.out.eml', import.meta.url));
    const b64 = out.toString('latin1').split('Content-Transfer-Encoding: base64\r\n\r\n')[1]!.split('\r\n--cs--')[0]!;
    const text = new TextDecoder('utf-16be').decode(Buffer.from(b64, 'base64'));
    expect(text).toContain('<p>UTF-16 big-endian Привет</p>\r\n' + pixelMarkup('https://t.example.com/o/v1.AbC_d-9?k=1&z="x"') + '</body>');
  });

  it('leaves an odd-length UTF-16 body alone', () => {
    const raw = Buffer.concat([Buffer.from('Content-Type: text/html; charset=utf-16le\r\nContent-Transfer-Encoding: binary\r\n\r\n'), Buffer.from([0x3c, 0, 0x70])]);
    expect(injectPixel(raw, URL)).toMatchObject({ injected: false, reason: 'malformed' });
  });

  it('switches ISO-2022-JP to ASCII for the markup when the content ends in JIS mode', () => {
    const raw = Buffer.from('Content-Type: text/html; charset=iso-2022-jp\r\n\r\n<p>\x1b$B$3$s', 'latin1');
    const r = injectPixel(raw, URL);
    expect(r.injected).toBe(true);
    const body = r.output.subarray(r.output.indexOf('\r\n\r\n') + 4);
    expect(new TextDecoder('iso-2022-jp').decode(body)).toBe('<p>こん' + M);
  });

  it('skips DKIM-signed mail whatever the header case', () => {
    const raw = Buffer.from('dkim-SIGNATURE: v=1\r\nContent-Type: text/html\r\n\r\n<p>x</p>');
    expect(injectPixel(raw, URL)).toMatchObject({ injected: false, reason: 'dkim-signed', output: raw });
  });

  it('skips a signed part met before the HTML', () => {
    const raw = Buffer.from('Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/signed; boundary=s\r\n\r\n--s\r\nContent-Type: text/html\r\n\r\nx\r\n--s--\r\n--a--\r\n');
    expect(injectPixel(raw, URL)).toMatchObject({ injected: false, reason: 'signed' });
  });

  it('honours maxBytes and ignores a limit of 0 or NaN', () => {
    const raw = Buffer.from('Content-Type: text/html\r\n\r\n<p>' + 'x'.repeat(100) + '</p>');
    expect(injectPixel(raw, URL, { maxBytes: 50 })).toMatchObject({ injected: false, reason: 'too-large' });
    expect(injectPixel(raw, URL, { maxBytes: 0 }).injected).toBe(true);
    expect(injectPixel(raw, URL, { maxBytes: Number.NaN }).injected).toBe(true);
    const big = Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x61);
    const rb = injectPixel(big, URL);
    expect(rb.injected ? 'injected' : rb.reason).toBe('too-large');
  });

  it('skips an unknown transfer encoding', () => {
    const raw = Buffer.from('Content-Type: text/html\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n');
    expect(injectPixel(raw, URL)).toMatchObject({ injected: false, reason: 'malformed' });
  });

  it('inserts into an empty QP body and into a QP line ending softly', () => {
    const empty = Buffer.from('Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
    const r1 = injectPixel(empty, URL);
    expect(r1.injected).toBe(true);
    const soft = Buffer.from('Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>a</p></bo=\r\ndy>\r\n');
    const r2 = injectPixel(soft, URL);
    expect(r2.injected).toBe(true);
    for (const line of r2.output.toString().split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  });

  describe('hostile input: no throw, bounded time', () => {
    const timed = (raw: Buffer) => {
      const t = performance.now();
      const r = injectPixel(raw, URL);
      return { r, ms: performance.now() - t };
    };

    it('10,000-deep nesting', () => {
      let open = '';
      for (let i = 0; i < 10_000; i++) open += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
      const { r, ms } = timed(Buffer.from(open + 'Content-Type: text/html\r\n\r\n<p>deep</p>\r\n'));
      expect(r).toMatchObject({ injected: false, reason: 'malformed' });
      expect(ms).toBeLessThan(2000);
    });

    it('a 1 MB header line', () => {
      const raw = Buffer.from('Subject: ' + 'a'.repeat(1 << 20) + '\r\nContent-Type: text/html\r\n\r\n<p>x</p>');
      const { r, ms } = timed(raw);
      expect(r.injected ? 'injected' : r.reason).toBe('malformed');
      expect(r.output).toBe(raw); // identity; a deep compare of 1 MB is slow in vitest
      expect(ms).toBeLessThan(2000);
      expect(readHeaders(raw)).toEqual([]);
    });

    it('NUL bytes and garbage', () => {
      const raw = Buffer.alloc(200_000);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 256;
      expect(timed(raw).r.injected).toBe(false);
      const nul = Buffer.from('Content-Type: text/html\r\n\r\n<p>\0\0\0</p></body>\0');
      expect(timed(nul).r.injected).toBe(true);
    });

    it('100,000 delimiter look-alikes stay linear', () => {
      const raw = Buffer.from('Content-Type: multipart/mixed; boundary=zz\r\n\r\n' + 'x--zz--zzq\r\n'.repeat(100_000) + '--zz\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--zz--\r\n');
      const { r, ms } = timed(raw);
      expect(r.injected).toBe(true);
      expect(ms).toBeLessThan(2000);
    });

    it('colon-less header lines before a large colon-less body stay linear', () => {
      const raw = Buffer.concat([Buffer.from('x\r\n'.repeat(80_000) + '\r\n'), Buffer.alloc(5_000_000, 0x79)]);
      const { r, ms } = timed(raw);
      expect(r.injected ? 'injected' : r.reason).toBe('no-html');
      expect(ms).toBeLessThan(2000);
    });

    it('long runs of blanks in header names and values stay linear', () => {
      const blanks = ' '.repeat(100_000);
      const raw = Buffer.from(`Subject:${blanks}x\r\n${blanks}Y: z\r\nContent-Type: text/html\r\n\r\n<p>x</p>`);
      const { r, ms } = timed(raw);
      expect(r.injected).toBe(true);
      expect(ms).toBeLessThan(2000);
    });

    it('many empty parts stop at the part limit', () => {
      const raw = Buffer.from('Content-Type: multipart/mixed; boundary=p\r\n\r\n' + '--p\r\n\r\n'.repeat(50_000) + '--p--\r\n');
      const { r, ms } = timed(raw);
      expect(r).toMatchObject({ injected: false, reason: 'malformed' });
      expect(ms).toBeLessThan(2000);
    });
  });
});

describe('header helpers', () => {
  const raw = Buffer.from('Received: from a\r\n\tby b\r\nX-Secret: 1\r\nSubject: hi\r\nx-secret: two\r\n  folded\r\n\r\nbody X-Secret: 3\r\n');

  it('readHeaders unfolds and stops at the body', () => {
    expect(readHeaders(raw)).toEqual([
      { name: 'Received', value: 'from a\tby b' },
      { name: 'X-Secret', value: '1' },
      { name: 'Subject', value: 'hi' },
      { name: 'x-secret', value: 'two  folded' },
    ]);
  });

  it('removeHeaders drops every field case-insensitively with its continuation lines', () => {
    expect(removeHeaders(raw, ['X-SECRET']).toString()).toBe('Received: from a\r\n\tby b\r\nSubject: hi\r\n\r\nbody X-Secret: 3\r\n');
    expect(removeHeaders(raw, ['nope'])).toBe(raw);
  });

  it('prependHeaders uses the message line ending and refuses header injection', () => {
    const lf = Buffer.from('Subject: x\n\nbody\n');
    expect(prependHeaders(lf, [['X-A', '1'], ['X-B', 'long\r\n folded']]).toString()).toBe('X-A: 1\nX-B: long\n folded\nSubject: x\n\nbody\n');
    expect(() => prependHeaders(lf, [['X-A', 'a\r\nBcc: evil@x']])).toThrow(TypeError);
    expect(() => prependHeaders(lf, [['Bad Name', 'a']])).toThrow(TypeError);
  });
});

describe('quoted-printable rewrap', () => {
  it('never starts a wrapped line with "-" (it could read as a boundary) and keeps lines within 76', () => {
    const url = 'https://px.example/o/' + '-'.repeat(300);
    const raw = Buffer.from('Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>x</p></body>\r\n');
    const r = injectPixel(raw, url);
    expect(r.injected).toBe(true);
    const lines = r.output.toString().split('\r\n').slice(3);
    for (const line of lines) {
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line.startsWith('-')).toBe(false);
    }
  });
});
