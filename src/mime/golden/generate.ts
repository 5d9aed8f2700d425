// Writes the golden fixtures: `npx tsx src/mime/golden/generate.ts` writes every *.in.eml;
// with `--outputs` it also writes *.out.eml and outcomes.json from the current injector.
// Outputs are pinned by golden.test.ts; regenerate them only after reading the diff by eye.
// Charset bodies are made with iconv-lite (ISO-2022-JP by hand: iconv-lite cannot encode it).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import iconv from 'iconv-lite';
import { injectPixel } from '../inject.js';

export const GOLDEN_PIXEL_URL = 'https://t.example.com/o/v1.AbC_d-9?k=1&z="x"';
const dir = path.dirname(fileURLToPath(import.meta.url));

const qp = (b: Buffer): string => {
  // hand-rolled soft wrapping keeps fixtures independent of the injector's own encoder
  let s = '';
  for (const c of b) s += (c >= 33 && c <= 126 && c !== 61) || c === 32 ? String.fromCharCode(c) : '=' + c.toString(16).toUpperCase().padStart(2, '0');
  const out: string[] = [];
  for (const line of s.split('=0D=0A')) {
    let l = line;
    while (l.length > 76) {
      let cut = 75;
      if (l[cut - 1] === '=') cut -= 1;
      else if (l[cut - 2] === '=') cut -= 2;
      out.push(l.slice(0, cut) + '=');
      l = l.slice(cut);
    }
    out.push(l.endsWith(' ') ? l.slice(0, -1) + '=20' : l);
  }
  return out.join('\r\n');
};
const b64 = (b: Buffer, width = 76): string => b.toString('base64').replace(new RegExp(`(.{${width}})(?=.)`, 'g'), '$1\r\n');

const HTML = (title: string, extra = ''): string =>
  `<!DOCTYPE html>\r\n<html>\r\n<head><meta charset="utf-8"><title>${title}</title></head>\r\n<body>\r\n<p>${title}</p>${extra}\r\n</body>\r\n</html>\r\n`;
const head = (ct: string, more = ''): string =>
  `From: Sender <sender@example.com>\r\nTo: rcpt@example.net\r\nSubject: golden\r\nDate: Thu, 03 Dec 2026 12:00:00 +0000\r\nMessage-ID: <golden@example.com>\r\nMIME-Version: 1.0\r\n${more}Content-Type: ${ct}\r\n\r\n`;

type Fixture = [name: string, bytes: Buffer | string];
const fixtures: Fixture[] = [];
const add = (name: string, bytes: Buffer | string): void => void fixtures.push([name, bytes]);

// --- structure shapes -------------------------------------------------------------
add('01-html-only', head('text/html; charset=utf-8', 'Content-Transfer-Encoding: 8bit\r\n') + HTML('Héllo only HTML'));
add('02-alternative', head('multipart/alternative; boundary="alt"') +
  '--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain </body> text\r\n' +
  '--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n' + HTML('alternative') + '\r\n--alt--\r\n');
add('03-mixed-alternative-attachment', head('multipart/mixed; boundary="mix"') +
  '--mix\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n' +
  '--alt\r\nContent-Type: text/plain\r\n\r\nplain\r\n--alt\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n' + HTML('mixed') + '\r\n--alt--\r\n' +
  '\r\n--mix\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
  b64(Buffer.from('%PDF-1.4 fake </body> pdf'.repeat(5))) + '\r\n--mix--\r\n');
add('04-related-inline-image', head('multipart/related; boundary="rel"; type="text/html"') +
  '--rel\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' + HTML('related', '<img src="cid:logo@x">') +
  '\r\n--rel\r\nContent-Type: image/gif\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7\r\n--rel--\r\n');
add('05-html-attachment-first', head('multipart/mixed; boundary="m"') +
  '--m\r\nContent-Type: text/html; charset=utf-8; name="report.html"\r\nContent-Disposition: attachment; filename="report.html"\r\n\r\n' + HTML('ATTACHMENT must stay') +
  '\r\n--m\r\nContent-Type: text/html; charset=utf-8\r\n\r\n' + HTML('the real body') + '\r\n--m--\r\n');
const inner = 'From: inner@example.org\r\nSubject: forwarded\r\nContent-Type: text/html; charset=utf-8\r\n\r\n' + HTML('INNER forwarded message');
add('06-rfc822-then-html', head('multipart/mixed; boundary="fw"') +
  '--fw\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n' + inner +
  '\r\n--fw\r\nContent-Type: text/html; charset=utf-8\r\n\r\n' + HTML('outer body after forward') + '\r\n--fw--\r\n');
add('07-rfc822-only-html-inside', head('multipart/mixed; boundary="fw"') +
  '--fw\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--fw\r\nContent-Type: message/rfc822\r\n\r\n' + inner + '\r\n--fw--\r\n');
add('08-qp-html', head('text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable\r\n') +
  qp(Buffer.from(HTML('quoted-printable ' + 'long line with ümlauts '.repeat(6)), 'utf8')) + '\r\n');
add('09-base64-html', head('text/html; charset=utf-8', 'Content-Transfer-Encoding: base64\r\n') + b64(Buffer.from(HTML('base64 body ✓'), 'utf8')) + '\r\n');
add('10-base64-72-cols', head('text/html; charset=utf-8', 'Content-Transfer-Encoding: base64\r\n') + b64(Buffer.from(HTML('seventy-two columns'), 'utf8'), 72) + '\r\n');

// --- charsets ---------------------------------------------------------------------
const cs = (name: string, charset: string, cte: '8bit' | 'quoted-printable' | 'base64' | '7bit', bytes: Buffer): void => {
  const body = cte === 'quoted-printable' ? qp(bytes) + '\r\n' : cte === 'base64' ? b64(bytes) + '\r\n' : bytes.toString('latin1');
  add(name, Buffer.concat([Buffer.from(head('multipart/alternative; boundary="cs"'), 'latin1'),
    Buffer.from(`--cs\r\nContent-Type: text/plain; charset=${charset}\r\n\r\n(plain)\r\n--cs\r\nContent-Type: text/html; charset=${charset}\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n`, 'latin1'),
    Buffer.from(body, 'latin1'), Buffer.from('\r\n--cs--\r\n', 'latin1')]));
};
cs('11-charset-utf-8', 'utf-8', '8bit', Buffer.from(HTML('UTF-8: Привет, 日本, ✓'), 'utf8'));
cs('12-charset-us-ascii', 'us-ascii', '7bit', Buffer.from(HTML('plain ascii'), 'latin1'));
cs('13-charset-iso-8859-1', 'iso-8859-1', 'quoted-printable', iconv.encode(HTML('Ça coûte déjà'), 'iso-8859-1'));
cs('14-charset-windows-1251', 'windows-1251', 'quoted-printable', iconv.encode(HTML('Привет из Windows-1251'), 'windows-1251'));
cs('15-charset-koi8-r', 'koi8-r', '8bit', iconv.encode(HTML('Привет из KOI8-R'), 'koi8-r'));
cs('16-charset-shift_jis', 'shift_jis', 'base64', iconv.encode(HTML('こんにちは、表示'), 'shift_jis'));
// "こんにちは" in JIS X 0208, between ESC $ B and ESC ( B (RFC 1468)
const jis = Buffer.from('\x1b$B$3$s$K$A$O\x1b(B', 'latin1');
cs('17-charset-iso-2022-jp', 'iso-2022-jp', '7bit', Buffer.concat([Buffer.from('<html><body>\r\n<p>', 'latin1'), jis, Buffer.from('</p>\r\n</body></html>\r\n', 'latin1')]));
cs('18-charset-utf-16', 'utf-16', 'base64', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(HTML('UTF-16 big-endian Привет'), 'utf16le').swap16()]));
cs('19-charset-utf-16le-qp', 'utf-16le', 'quoted-printable', Buffer.from(HTML('UTF-16LE in QP'), 'utf16le'));
cs('20-charset-iso-2022-jp-base64-no-close', 'iso-2022-jp', 'base64', Buffer.concat([Buffer.from('<p>', 'latin1'), jis, Buffer.from('</p>\r\n', 'latin1')]));

// --- line endings and insertion points -------------------------------------------
add('21-lf-line-endings', (head('multipart/alternative; boundary="lf"') +
  '--lf\r\nContent-Type: text/plain\r\n\r\nplain\r\n--lf\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
  qp(Buffer.from(HTML('LF only message ' + 'x'.repeat(90)))) + '\r\n--lf--\r\n').replace(/\r\n/g, '\n'));
add('22-lf-base64', (head('text/html; charset=utf-8', 'Content-Transfer-Encoding: base64\r\n') + b64(Buffer.from(HTML('LF base64'))) + '\r\n').replace(/\r\n/g, '\n'));
add('23-no-body-close', head('text/html; charset=utf-8') + '<html><p>no body close tag</p>\r\n</html>\r\n');
add('24-no-closing-tags', head('text/html; charset=utf-8') + '<p>a fragment with no closing tags at all</p>\r\n');
add('25-uppercase-body', head('text/html; charset=utf-8') + '<HTML><BODY><P>SHOUTING</P></BODY></HTML>\r\n');
add('26-body-in-comment', head('text/html; charset=utf-8') + '<html><body><p>real</p>\r\n</body>\r\n<!-- old footer </body> --></html>\r\n');
add('27-several-body-close', head('text/html; charset=utf-8') + '<html><body><p>one</p></body>\r\n<body><p>two</p></body >\r\n</html>\r\n');
add('28-preamble-epilogue', head('multipart/alternative; boundary="pe"') +
  'This is a multi-part message in MIME format.\r\n--pe-not-a-boundary\r\n\r\n--pe\r\nContent-Type: text/plain\r\n\r\nplain\r\n--pe\r\nContent-Type: text/html\r\n\r\n' + HTML('preamble and epilogue') +
  '\r\n--pe--\r\nepilogue text </body>\r\n');
add('29-long-8bit-line', head('text/html; charset=utf-8', 'Content-Transfer-Encoding: 8bit\r\n') + '<html><body><p>' + 'y'.repeat(900) + '</p></body></html>\r\n');

// --- skipped ----------------------------------------------------------------------
add('30-text-only', head('text/plain; charset=utf-8') + 'Just text, no HTML </body>.\r\n');
add('31-signed', head('multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="sig"') +
  '--sig\r\nContent-Type: text/html; charset=utf-8\r\n\r\n' + HTML('signed') + '\r\n--sig\r\nContent-Type: application/pkcs7-signature; name="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIC\r\n--sig--\r\n');
add('32-dkim-signed', 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\r\n\th=from:to:subject; bh=abc=; b=def=\r\n' + head('text/html; charset=utf-8') + HTML('dkim'));
add('33-pkcs7-encrypted', head('application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"', 'Content-Transfer-Encoding: base64\r\n') + 'MIAGCSqGSIb3DQEHA6CAMIACAQAxggFA\r\n');
add('34-pgp-encrypted', head('multipart/encrypted; protocol="application/pgp-encrypted"; boundary="pgp"') +
  '--pgp\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--pgp\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n-----END PGP MESSAGE-----\r\n--pgp--\r\n');
add('35-boundary-never-appears', head('multipart/alternative; boundary="missing"') + '--other\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--other--\r\n');
add('36-invalid-base64', head('text/html; charset=utf-8', 'Content-Transfer-Encoding: base64\r\n') + 'PGh0bWw+!!not*base64\r\n');
add('37-unsupported-charset', head('text/html; charset=utf-7') + '<html><body>+ZeVnLIqe-</body></html>\r\n');
add('38-missing-close-delimiter', head('multipart/alternative; boundary="open"') + '--open\r\nContent-Type: text/plain\r\n\r\nplain\r\n--open\r\nContent-Type: text/html\r\n\r\n<p>truncated</p>\r\n');

// only when run as a script: golden.test.ts imports GOLDEN_PIXEL_URL and must not rewrite fixtures
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) for (const [name, bytes] of fixtures) fs.writeFileSync(path.join(dir, `${name}.in.eml`), bytes);
if (isMain && process.argv.includes('--outputs')) {
  const outcomes: Record<string, string> = {};
  for (const [name, bytes] of fixtures) {
    const r = injectPixel(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'), GOLDEN_PIXEL_URL);
    outcomes[name] = r.injected ? 'injected' : r.reason;
    fs.writeFileSync(path.join(dir, `${name}.out.eml`), r.output);
  }
  fs.writeFileSync(path.join(dir, 'outcomes.json'), JSON.stringify(outcomes, null, 2) + '\n');
  console.log(outcomes);
}
