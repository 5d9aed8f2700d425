// Content-Transfer-Encoding codecs for the one part we rewrite (RFC 2045 6.7 quoted-printable,
// 6.8 base64). Quoted-printable is decoded line by line with a map back to encoded offsets,
// so only the one encoded line holding the insertion point is re-encoded; base64 is block
// based, so its whole payload is re-encoded at the original line length.

import libqp from 'libqp';
import { MAX_ENCODED_LINE } from './limits.js';

const LF = 0x0a;
const CR = 0x0d;

export interface QpLine {
  /** Encoded span of the physical line, [start, end) with its line break. */
  start: number;
  end: number;
  /** Length of the line's own line break (2 CRLF, 1 LF, 0 for a last line without one). */
  eolLen: number;
  soft: boolean;
  /** Decoded content of the line (without its hard line break) is decoded[decStart, decStart + decLen). */
  decStart: number;
  decLen: number;
}

function hex(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Decodes quoted-printable leniently (a stray "=" stays literal) and keeps a line map. */
export function qpDecode(body: Buffer): { decoded: Buffer; lines: QpLine[] } {
  const out = Buffer.allocUnsafe(body.length);
  const lines: QpLine[] = [];
  let o = 0;
  let pos = 0;
  while (pos < body.length) {
    let nl = body.indexOf(LF, pos);
    const hasEol = nl !== -1;
    if (!hasEol) nl = body.length;
    let contentEnd = hasEol && nl > pos && body[nl - 1] === CR ? nl - 1 : nl;
    const end = hasEol ? nl + 1 : nl;
    const eolLen = end - contentEnd;
    // RFC 2045 6.7 rule 3: trailing whitespace was added in transport and must be deleted
    while (contentEnd > pos && (body[contentEnd - 1] === 0x20 || body[contentEnd - 1] === 0x09)) contentEnd--;
    // a final "=" is always a soft break: an escape triplet ends in a hex digit, never in "="
    const soft = contentEnd > pos && body[contentEnd - 1] === 0x3d;
    if (soft) contentEnd--;
    const decStart = o;
    for (let i = pos; i < contentEnd; i++) {
      const c = body[i]!;
      if (c === 0x3d && i + 2 < contentEnd) {
        const h = hex(body[i + 1]);
        const l = hex(body[i + 2]);
        if (h >= 0 && l >= 0) {
          out[o++] = h * 16 + l;
          i += 2;
          continue;
        }
      }
      out[o++] = c;
    }
    const decLen = o - decStart;
    if (!soft) for (let i = end - eolLen; i < end; i++) out[o++] = body[i]!;
    lines.push({ start: pos, end, eolLen, soft, decStart, decLen });
    pos = end;
  }
  return { decoded: out.subarray(0, o), lines };
}

/**
 * Re-encodes the one line holding decoded offset `at` with `insert` spliced in, wrapped at 76
 * with the message's line ending, keeping whether the line ended softly. Returns the encoded
 * span [start, end) it replaces and the new bytes.
 */
export function qpSplice(body: Buffer, decoded: Buffer, lines: QpLine[], at: number, insert: Buffer, eol: string): { start: number; end: number; bytes: Buffer } {
  let line = lines[lines.length - 1];
  for (const l of lines) {
    if (at <= l.decStart + l.decLen) {
      line = l;
      break;
    }
  }
  if (!line) {
    // an empty body: one new line
    return { start: 0, end: 0, bytes: Buffer.from(wrapQp(libqp.encode(insert), MAX_ENCODED_LINE, eol), 'latin1') };
  }
  const content = Buffer.concat([decoded.subarray(line.decStart, at), insert, decoded.subarray(at, line.decStart + line.decLen)]);
  const width = line.soft ? MAX_ENCODED_LINE - 1 : MAX_ENCODED_LINE; // leave room for the soft "="
  const text = wrapQp(libqp.encode(content), width, eol) + (line.soft ? '=' : '') + body.toString('latin1', line.end - line.eolLen, line.end);
  return { start: line.start, end: line.end, bytes: Buffer.from(text, 'latin1') };
}

function wrapQp(encoded: string, width: number, eol: string): string {
  // the line's content holds no hard line break; a literal CR or LF out of libqp would become one
  const oneLine = encoded.replace(/\r/g, '=0D').replace(/\n/g, '=0A');
  // A wrapped line that starts with "--" could read as a multipart delimiter: escape a leading
  // "-" (libqp does so only where its input starts); wrap 2 narrower to leave room for "=2D".
  return libqp.wrap(oneLine, width - 2).replace(/\r\n-/g, '\r\n=2D').replace(/\r\n/g, eol);
}

/** Span of the base64 payload inside the body: leading and trailing line breaks/space stay as they are. */
export function base64Payload(body: Buffer): { start: number; end: number; lineLength: number } | null {
  let start = 0;
  let end = body.length;
  const ws = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === CR || c === LF;
  while (start < end && ws(body[start])) start++;
  while (end > start && ws(body[end - 1])) end--;
  let chars = 0;
  let pad = 0;
  let firstLine = -1;
  for (let i = start; i < end; i++) {
    const c = body[i]!;
    if (ws(c)) {
      if (firstLine === -1 && (c === CR || c === LF)) firstLine = i - start;
      continue;
    }
    const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
    if (c === 0x3d) pad++;
    else if (!alpha || pad > 0) return null; // data after padding, or a char outside the alphabet
    chars++;
  }
  if (chars % 4 !== 0 || pad > 2) return null;
  const lineLength = firstLine === -1 ? MAX_ENCODED_LINE : Math.max(4, Math.min(firstLine, MAX_ENCODED_LINE));
  return { start, end, lineLength };
}

export function base64Encode(data: Buffer, lineLength: number, eol: string): Buffer {
  const b64 = data.toString('base64');
  if (b64.length <= lineLength) return Buffer.from(b64, 'latin1');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += lineLength) lines.push(b64.slice(i, i + lineLength));
  return Buffer.from(lines.join(eol), 'latin1');
}
