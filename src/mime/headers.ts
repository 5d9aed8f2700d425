// Header blocks of a message or a body part, read straight from the raw bytes (RFC 5322
// section 2.2 fields, 2.2.3 folding; RFC 2045 parameters; RFC 2231 continuations).
// Trusts nothing: every scan is bounded by limits.ts, and byte offsets are kept so that
// callers can cut and splice without re-serialising anything.

import { MAX_HEADER_BYTES, MAX_HEADER_FIELDS } from './limits.js';

export interface HeaderField {
  name: string;
  /** unfolded, raw (not RFC 2047 decoded) */
  value: string;
}

/** A field with the byte span it occupies, folded continuation lines and final line break included. */
export interface LocatedField extends HeaderField {
  start: number;
  end: number;
}

export interface HeaderBlock {
  fields: LocatedField[];
  /** Offset of the first body byte (after the empty line), or the region end when there is none. */
  bodyStart: number;
  /** False when the region ended before an empty line: a part with headers and no body. */
  separated: boolean;
  /** True when MAX_HEADER_BYTES or MAX_HEADER_FIELDS stopped the scan: the block cannot be trusted. */
  overLimit: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

function isWsp(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

// Loops, not /[ \t]+$/: that regex is quadratic on a long run of blanks followed by text,
// and header values come from untrusted mail.
function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/** The message's own line ending, taken from its first line (CRLF when it has none). */
export function detectEol(raw: Buffer): '\r\n' | '\n' {
  const i = raw.indexOf(LF);
  return i > 0 && raw[i - 1] === CR ? '\r\n' : i === -1 ? '\r\n' : '\n';
}

/** Reads the header block that starts at `start`, never looking past `end`. */
export function scanHeaderBlock(raw: Buffer, start: number, end: number): HeaderBlock {
  const fields: LocatedField[] = [];
  const limit = Math.min(end, start + MAX_HEADER_BYTES);
  let pos = start;
  let cur: { start: number; nameEnd: number; lines: string[]; name: string } | null = null;
  const flush = (fieldEnd: number): void => {
    if (!cur) return;
    fields.push({ name: cur.name, value: trimWsp(cur.lines.join('')), start: cur.start, end: fieldEnd });
    cur = null;
  };
  while (pos < end) {
    if (pos >= limit || fields.length >= MAX_HEADER_FIELDS) {
      return { fields, bodyStart: end, separated: false, overLimit: true };
    }
    let nl = raw.indexOf(LF, pos);
    if (nl === -1 || nl >= end) nl = end; // last line without a line break
    const lineEnd = nl > pos && raw[nl - 1] === CR ? nl - 1 : nl;
    const next = nl < end ? nl + 1 : end;
    if (lineEnd === pos) {
      // the empty line: headers end, the body follows
      flush(pos);
      return { fields, bodyStart: next, separated: nl < end, overLimit: false };
    }
    if (next - start > MAX_HEADER_BYTES) {
      return { fields, bodyStart: end, separated: false, overLimit: true };
    }
    if (isWsp(raw[pos]) && cur) {
      (cur as { lines: string[] }).lines.push(raw.toString('utf8', pos, lineEnd));
    } else {
      flush(pos);
      // a bounded scan of this line only: indexOf on the whole buffer would make colon-less
      // lines quadratic
      let colon = pos;
      while (colon < lineEnd && raw[colon] !== 0x3a) colon++;
      if (colon < lineEnd) {
        const name = trimWsp(raw.toString('latin1', pos, colon));
        // a line that is not "name: value" is ignored, as RFC 5322 parsers commonly do
        if (/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
          cur = { start: pos, nameEnd: colon, name, lines: [raw.toString('utf8', colon + 1, lineEnd)] };
        }
      }
    }
    pos = next;
  }
  flush(end);
  return { fields, bodyStart: end, separated: false, overLimit: false };
}

/** The top-level header fields, in order; bounded by MAX_HEADER_BYTES / MAX_HEADER_FIELDS. */
export function readHeaders(raw: Buffer): HeaderField[] {
  return scanHeaderBlock(raw, 0, raw.length).fields.map(({ name, value }) => ({ name, value }));
}

/** Removes every top-level field with one of these names (case-insensitive), byte for byte. */
export function removeHeaders(raw: Buffer, names: string[]): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const block = scanHeaderBlock(raw, 0, raw.length);
  const drop = block.fields.filter((f) => wanted.has(f.name.toLowerCase()));
  if (drop.length === 0) return raw;
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const f of drop) {
    pieces.push(raw.subarray(pos, f.start));
    pos = f.end;
  }
  pieces.push(raw.subarray(pos));
  return Buffer.concat(pieces);
}

/**
 * Adds fields at the top, in the given order, with the message's own line ending. A value may
 * be pre-folded (a line break followed by a space or tab); any other CR, LF or NUL would let a
 * value smuggle in a header of its own, so it is refused.
 */
export function prependHeaders(raw: Buffer, fields: [string, string][]): Buffer {
  if (fields.length === 0) return raw;
  const eol = detectEol(raw);
  let text = '';
  for (const [name, value] of fields) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw new TypeError(`invalid header field name: ${JSON.stringify(name)}`);
    if (/\0|\r(?!\n)|\r?\n(?![ \t])/.test(value) || /(?:\r?\n)$/.test(value)) {
      throw new TypeError(`header field ${name} has a line break or NUL that is not folding`);
    }
    text += `${name}: ${value.replace(/\r?\n/g, eol)}${eol}`;
  }
  return Buffer.concat([Buffer.from(text, 'utf8'), raw]);
}

export function getField(fields: readonly HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const f of fields) if (f.name.toLowerCase() === lower) return f.value;
  return undefined;
}

export interface ParsedValue {
  /** Lower-cased main value, e.g. "text/html" or "attachment". */
  value: string;
  /** Lower-cased parameter names; RFC 2231 continuations joined, charset prefix removed. */
  params: Record<string, string>;
}

/** Parses `value; name=token; name="quoted"` (RFC 2045 5.1) leniently; never throws. */
export function parseStructured(input: string | undefined): ParsedValue {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!input) return { value: '', params };
  // most Content-Transfer-Encoding and many Content-Disposition values have no parameters
  if (!input.includes(';')) return { value: input.toLowerCase().replace(/["\s]+/g, ''), params };
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < input.length) cur += input[++i];
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ';') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const value = (parts.shift() ?? '').trim().toLowerCase().replace(/\s+/g, '');
  const continued: Record<string, { i: number; v: string; ext: boolean }[]> = Object.create(null) as Record<string, { i: number; v: string; ext: boolean }[]>;
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq === -1) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1).trim();
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key);
    if (!m) continue;
    const base = m[1]!;
    (continued[base] ??= []).push({ i: m[2] ? Number(m[2]) : 0, v: val, ext: Boolean(m[3]) });
  }
  for (const [name, pieces] of Object.entries(continued)) {
    pieces.sort((a, b) => a.i - b.i);
    let joined = '';
    for (const [idx, piece] of pieces.entries()) {
      let v = piece.v;
      if (piece.ext) {
        if (idx === 0) v = v.replace(/^[^']*'[^']*'/, ''); // RFC 2231 charset'language' prefix
        try {
          v = decodeURIComponent(v);
        } catch {
          // not UTF-8 percent-encoding; keep the raw text rather than guess
        }
      }
      joined += v;
    }
    params[name] = joined;
  }
  return { value, params };
}
