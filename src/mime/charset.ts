// Charset handling for the chosen HTML part: decides how its bytes map to text so that the
// insertion point is found in characters and the ASCII markup is written in the part's own
// charset (RFC 2046 4.1.2). ASCII-compatible charsets need no conversion at all; ISO-2022-JP
// (RFC 1468) is ASCII only between escape sequences; UTF-16 (RFC 2781) is converted for real.

import iconv from 'iconv-lite';

export type CharsetKind =
  | { kind: 'ascii' }
  | { kind: 'iso-2022-jp' }
  | { kind: 'utf-16'; littleEndian: boolean; bom: boolean };

// Every printable ASCII char: a charset is "ASCII-compatible" here when iconv-lite writes each
// of them as the same single byte, which rules out UTF-7, UTF-16/32 and EBCDIC.
const PROBE = Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)).join('') + '\r\n\t';
const PROBE_BYTES = Buffer.from(PROBE, 'latin1');
const asciiCompatible = new Map<string, boolean>();

function isAsciiCompatible(charset: string): boolean {
  let ok = asciiCompatible.get(charset);
  if (ok === undefined) {
    try {
      ok = iconv.encodingExists(charset) && iconv.encode(PROBE, charset).equals(PROBE_BYTES);
    } catch {
      ok = false;
    }
    if (asciiCompatible.size < 256) asciiCompatible.set(charset, ok); // bounded: names come from mail
  }
  return ok;
}

/** How to treat a part in `charset` whose decoded body is `body`; null when unsupported. */
export function classifyCharset(charset: string, body: Buffer): CharsetKind | null {
  const cs = charset.replace(/^["']|["']$/g, '').trim().toLowerCase();
  if (cs === 'utf-16' || cs === 'utf16' || cs === 'ucs-2' || cs === 'csunicode') {
    // RFC 2781 4.3: the BOM tells the byte order; without one, big-endian
    if (body[0] === 0xff && body[1] === 0xfe) return { kind: 'utf-16', littleEndian: true, bom: true };
    if (body[0] === 0xfe && body[1] === 0xff) return { kind: 'utf-16', littleEndian: false, bom: true };
    return { kind: 'utf-16', littleEndian: false, bom: false };
  }
  if (cs === 'utf-16le' || cs === 'utf-16be') return { kind: 'utf-16', littleEndian: cs.endsWith('le'), bom: false };
  if (cs === 'iso-2022-jp' || cs === 'csiso2022jp') return { kind: 'iso-2022-jp' };
  return isAsciiCompatible(cs) ? { kind: 'ascii' } : null;
}

/**
 * Text view of the body with offsets that map back to bytes: for ASCII-compatible charsets
 * one char per byte (latin1), for UTF-16 one char per code unit (2 bytes), for ISO-2022-JP one
 * char per byte with every byte outside ASCII mode masked so no tag can be seen inside it.
 */
export function textView(body: Buffer, cs: CharsetKind): { text: string; bytesPerUnit: number } {
  if (cs.kind === 'ascii') return { text: body.toString('latin1'), bytesPerUnit: 1 };
  if (cs.kind === 'utf-16') {
    const even = body.length & ~1;
    const text = new TextDecoder(cs.littleEndian ? 'utf-16le' : 'utf-16be', { ignoreBOM: true }).decode(body.subarray(0, even));
    return { text, bytesPerUnit: 2 };
  }
  const masked = Buffer.from(body);
  const modes = jisModes(body);
  for (let i = 0; i < masked.length; i++) if (modes[i] !== 0) masked[i] = 0x01;
  return { text: masked.toString('latin1'), bytesPerUnit: 1 };
}

// ISO-2022-JP escape sequences (RFC 1468): mode 0 = ASCII, anything else = not ASCII.
const JIS_ESCAPES: [string, number][] = [
  ['\x1b(B', 0],
  ['\x1b(J', 1], // JIS X 0201 Roman: "\" and "~" differ from ASCII
  ['\x1b$@', 2],
  ['\x1b$B', 2],
  ['\x1b(I', 3],
];

/** Per byte: the ISO-2022-JP mode in force (escape bytes themselves count as non-ASCII). */
function jisModes(body: Buffer): Uint8Array {
  const modes = new Uint8Array(body.length);
  let mode = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0x1b) {
      const seq = body.toString('latin1', i, i + 3);
      const hit = JIS_ESCAPES.find(([s]) => s === seq);
      if (hit) {
        modes[i] = modes[i + 1] = modes[i + 2] = 4;
        mode = hit[1];
        i += 2;
        continue;
      }
    }
    modes[i] = mode;
  }
  return modes;
}

/** The escape sequence that returns to the mode in force at `offset`, or '' when it is ASCII. */
export function jisModeAt(body: Buffer, offset: number): string {
  let seq = '';
  for (let i = body.indexOf(0x1b); i !== -1 && i < offset; i = body.indexOf(0x1b, i + 1)) {
    const s = body.toString('latin1', i, i + 3);
    const hit = JIS_ESCAPES.find(([e]) => e === s);
    if (hit && i + 3 <= offset) seq = hit[1] === 0 ? '' : s;
  }
  return seq;
}

/** The inserted text as bytes of the part's charset, at a point whose mode is known. */
export function encodeInsert(text: string, cs: CharsetKind, jisReturn: string): Buffer {
  if (cs.kind === 'utf-16') {
    const b = Buffer.from(text, 'utf16le');
    return cs.littleEndian ? b : b.swap16();
  }
  if (cs.kind === 'iso-2022-jp' && jisReturn) {
    // not in ASCII mode here: switch to ASCII for the markup, then back to the mode in force
    return Buffer.from('\x1b(B' + text + jisReturn, 'latin1');
  }
  return Buffer.from(text, 'latin1');
}
