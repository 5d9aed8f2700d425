// Property test: random MIME trees (fast-check) in several charsets, transfer encodings and
// line endings. postal-mime, an independent parser, checks that (a) only the chosen part's
// body span changed, (b) its decoded HTML is the original with the markup at the right place,
// (c) every other part decodes exactly as before.

import fc from 'fast-check';
import iconv from 'iconv-lite';
import libqp from 'libqp';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { injectPixel, pixelMarkup } from './index.js';

const URL = 'https://px.example/o/v1.tok?a=1&b=2';
const MARKUP = pixelMarkup(URL);

type Charset = 'utf-8' | 'iso-8859-1' | 'windows-1251' | 'koi8-r' | 'shift_jis' | 'utf-16le' | 'iso-2022-jp';
type Cte = '7bit' | '8bit' | 'quoted-printable' | 'base64';
interface Leaf { t: 'html' | 'text' | 'html-attachment' | 'image' | 'rfc822'; charset: Charset; cte: Cte; frags: string[] }
interface Multi { t: 'multi'; sub: 'mixed' | 'alternative' | 'related'; children: Node[] }
type Node = Leaf | Multi;

const WORDS: Record<Charset, string[]> = {
  'utf-8': ['hello', 'Привет', '日本語', '✓ ok', 'é'],
  'iso-8859-1': ['hello', 'café', 'Ünïcode', 'naïve'],
  'windows-1251': ['hello', 'Привет', 'мир', 'Ёж'],
  'koi8-r': ['hello', 'Привет', 'мир', 'тест'],
  shift_jis: ['hello', 'こんにちは', '表示', 'ソ'],
  'utf-16le': ['hello', 'Привет', '日本', '😀'],
  'iso-2022-jp': ['hello', 'JIS'], // plus a fixed JIS X 0208 run, see encodeText
};
const TAGS = ['<p>', '</p>', '</body>', '</BODY>', '</body >', '</html>', '<!-- </body> -->', '<!-- x', '-->', '<div>', ' ', '= ', '--'];

const leafArb: fc.Arbitrary<Leaf> = fc
  .record({
    t: fc.constantFrom('html', 'html', 'text', 'html-attachment', 'image', 'rfc822') as fc.Arbitrary<Leaf['t']>,
    charset: fc.constantFrom<Charset>('utf-8', 'iso-8859-1', 'windows-1251', 'koi8-r', 'shift_jis', 'utf-16le', 'iso-2022-jp'),
    cte: fc.constantFrom<Cte>('7bit', '8bit', 'quoted-printable', 'base64'),
    picks: fc.array(fc.tuple(fc.nat(20), fc.boolean()), { maxLength: 14 }),
  })
  .map(({ t, charset, cte, picks }) => {
    const words = WORDS[charset];
    const frags = picks.map(([n, tag]) => (tag ? TAGS[n % TAGS.length]! : n % 5 === 0 ? '\n' : words[n % words.length]!));
    // 7bit needs ASCII and UTF-16 needs an encoding that carries NULs safely
    if (cte === '7bit' && charset !== 'iso-2022-jp') cte = '8bit';
    if (charset === 'utf-16le' && (cte === '7bit' || cte === '8bit')) cte = 'base64';
    return { t, charset, cte, frags };
  });

const { tree } = fc.letrec<{ tree: Node; multi: Multi }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('multi')),
  multi: fc.record({
    t: fc.constant('multi' as const),
    sub: fc.constantFrom('mixed' as const, 'alternative' as const, 'related' as const),
    children: fc.array(tie('tree'), { minLength: 1, maxLength: 4 }),
  }),
}));

function encodeText(s: string, cs: Charset): Buffer {
  if (cs === 'iso-2022-jp') return Buffer.from(s.replace(/JIS/g, '\x1b$B$3$s\x1b(B'), 'latin1');
  if (cs === 'utf-16le') return Buffer.from(s, 'utf16le');
  return iconv.encode(s, cs);
}
const decodeText = (b: Buffer, cs: Charset): string => (cs === 'iso-2022-jp' ? new TextDecoder('iso-2022-jp').decode(b) : iconv.decode(b, cs));

interface Built { raw: Buffer; leaves: { leaf: Leaf; bodyStart: number; bodyEnd: number; html: string; id: string }[] }

function build(root: Node, eol: string): Built {
  const chunks: Buffer[] = [];
  let len = 0;
  let seq = 0;
  const leaves: Built['leaves'] = [];
  const put = (x: Buffer | string): void => {
    const b = typeof x === 'string' ? Buffer.from(x, 'latin1') : x;
    chunks.push(b);
    len += b.length;
  };
  const L = (s: string): string => s.replace(/\n/g, eol);
  const emit = (node: Node): void => {
    if (node.t === 'multi') {
      const b = `b${seq++}_${node.sub}`;
      put(L(`Content-Type: multipart/${node.sub}; boundary="${b}"\n\npreamble\n`));
      for (const c of node.children) {
        put(L(`--${b}\n`));
        emit(c);
        put(L('\n'));
      }
      put(L(`--${b}--\nepilogue\n`));
      return;
    }
    const id = `id${seq++}x`;
    if (node.t === 'image') {
      put(L(`Content-Type: image/gif\nContent-Transfer-Encoding: base64\nContent-Disposition: inline\n\nR0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=`));
      return;
    }
    if (node.t === 'rfc822') {
      put(L(`Content-Type: message/rfc822\n\nSubject: inner\nContent-Type: text/html\n\n<p>inner ${id}</p></body>`));
      return;
    }
    const html = L(`<i>${id}</i>` + node.frags.join(''));
    const bytes = encodeText(html, node.charset);
    const body =
      node.cte === 'base64' ? bytes.toString('base64').replace(/(.{76})(?=.)/g, `$1${eol}`)
      : node.cte === 'quoted-printable' ? libqp.wrap(libqp.encode(bytes), 76).replace(/\r\n/g, eol)
      : bytes.toString('latin1');
    const type = node.t === 'text' ? 'text/plain' : 'text/html';
    const disp = node.t === 'html-attachment' ? `Content-Disposition: attachment; filename="${id}.html"\n` : '';
    put(L(`Content-Type: ${type}; charset=${node.charset}\nContent-Transfer-Encoding: ${node.cte}\n${disp}\n`));
    const bodyStart = len;
    put(Buffer.from(body, 'latin1'));
    leaves.push({ leaf: node, bodyStart, bodyEnd: len, html, id });
  };
  put(L('From: a@example.com\nTo: b@example.net\nSubject: prop\nMIME-Version: 1.0\n'));
  emit(root);
  return { raw: Buffer.concat(chunks), leaves };
}

/** Independent statement of the insertion rule, used to predict the expected HTML. */
function expectedInsert(html: string, markup: string): string {
  const blanked = html.replace(/<!--[\s\S]*?(-->|$)/g, (m) => ' '.repeat(m.length)).toLowerCase();
  let at = -1;
  const body = [...blanked.matchAll(/<\/body[\s>/]/g)].pop();
  const htmlTag = [...blanked.matchAll(/<\/html[\s>/]/g)].pop();
  if (body) at = body.index;
  else if (htmlTag) at = htmlTag.index;
  else at = html.endsWith('\r\n') ? html.length - 2 : html.endsWith('\n') ? html.length - 1 : html.length;
  return html.slice(0, at) + markup + html.slice(at);
}

interface ParsedNode { childNodes: ParsedNode[]; content: ArrayBuffer | null; contentType: { parsed: { value: string } } }

/** Every leaf of postal-mime's part tree with its decoded body (its tree is internal, but public at runtime). */
async function parsedLeaves(raw: Buffer): Promise<{ type: string; content: Buffer }[]> {
  const parser = new PostalMime({ forceRfc822Attachments: true });
  await parser.parse(raw);
  const out: { type: string; content: Buffer }[] = [];
  const walk = (n: ParsedNode): void => {
    if (n.childNodes.length === 0) out.push({ type: n.contentType.parsed.value, content: Buffer.from(n.content ?? new ArrayBuffer(0)) });
    for (const c of n.childNodes) walk(c);
  };
  walk((parser as unknown as { root: ParsedNode }).root);
  return out;
}

describe('property: random MIME trees', () => {
  it('changes only the chosen part, inserts at the rule, keeps other parts', async () => {
    let injected = 0;
    await fc.assert(
      fc.asyncProperty(tree, fc.constantFrom('\r\n', '\n'), async (root, eol) => {
        const { raw, leaves } = build(root, eol);
        const result = injectPixel(raw, URL);
        const chosen = leaves.find((l) => l.leaf.t === 'html');
        if (!chosen) {
          expect(result).toMatchObject({ injected: false, reason: 'no-html' });
          return;
        }
        expect(result.injected).toBe(true);
        injected++;
        const out = result.output;
        // (a) out = raw with the chosen part's body span replaced: everything before the body
        // and everything after it are byte-identical. (A common-prefix/suffix scan would be
        // ambiguous for an insertion whose first bytes equal the bytes after it, e.g. CRLF.)
        const tail = raw.length - chosen.bodyEnd;
        expect(out.subarray(0, chosen.bodyStart).equals(raw.subarray(0, chosen.bodyStart))).toBe(true);
        expect(out.subarray(out.length - tail).equals(raw.subarray(chosen.bodyEnd))).toBe(true);
        expect(out.length - tail).toBeGreaterThanOrEqual(chosen.bodyStart);
        // (b) + (c) with postal-mime's part tree: exactly one leaf decodes differently, and it
        // is the chosen one with the markup at the expected place
        const [a, b] = await Promise.all([parsedLeaves(raw), parsedLeaves(out)]);
        expect(b.map((x) => x.type)).toEqual(a.map((x) => x.type));
        const changed = a.map((x, i) => (x.content.equals(b[i]!.content) ? -1 : i)).filter((i) => i >= 0);
        expect(changed.length).toBe(1);
        const i = changed[0]!;
        const html = decodeText(encodeText(chosen.html, chosen.leaf.charset), chosen.leaf.charset);
        // postal-mime reads 8bit bodies line by line (LF endings, extra final LF): compare modulo
        // line endings here; for 8bit the exact new bytes are checked just below
        const loose = (t: string): string => t.replace(/\r\n/g, '\n').replace(/\n+$/, '');
        expect(loose(decodeText(a[i]!.content, chosen.leaf.charset))).toBe(loose(html));
        expect(loose(decodeText(b[i]!.content, chosen.leaf.charset))).toBe(loose(expectedInsert(html, MARKUP)));
        if (chosen.leaf.cte === '8bit' || chosen.leaf.cte === '7bit') {
          const newBody = out.subarray(chosen.bodyStart, out.length - (raw.length - chosen.bodyEnd));
          expect(decodeText(newBody, chosen.leaf.charset)).toBe(expectedInsert(html, MARKUP));
        }
      }),
      { numRuns: 300 },
    );
    expect(injected).toBeGreaterThan(50);
  }, 120_000); // 300 trees, each parsed twice by postal-mime
});
