// Finds the "top HTML part" of a raw message (RFC 2045/2046 structure): the first text/html
// part met depth-first, skipping attachments and never entering message/* parts. Works on
// byte offsets only and walks lazily: it stops as soon as the chosen part's end is known, so
// attachments after the HTML are never scanned. Trusts nothing; bounds come from limits.ts.

import { MAX_BOUNDARY_LENGTH, MAX_DEPTH, MAX_PARTS } from './limits.js';
import { getField, parseStructured, scanHeaderBlock, type LocatedField } from './headers.js';

export interface HtmlPart {
  /** Body span [bodyStart, bodyEnd) of the chosen part, without the line break owned by the next delimiter. */
  bodyStart: number;
  bodyEnd: number;
  /** Lower-cased Content-Transfer-Encoding ('7bit' when absent). */
  encoding: string;
  /** Lower-cased charset parameter ('us-ascii' when absent, the RFC 2045 default). */
  charset: string;
}

export type WalkResult =
  | { found: true; part: HtmlPart }
  | { found: false; reason: 'no-html' | 'signed' | 'encrypted' | 'malformed' };

type Visit = WalkResult | null; // null: nothing here, keep walking

const LF = 0x0a;
const CR = 0x0d;

interface Delimiter {
  /** Where the preceding part's content ends (the line break before "--boundary" belongs to the delimiter). */
  contentEnd: number;
  /** First byte after the delimiter line. */
  next: number;
  close: boolean;
}

/** Finds the next delimiter line of `dash` ("--" + boundary) in [from, end). */
function findDelimiter(raw: Buffer, dash: Buffer, from: number, end: number, regionStart: number): Delimiter | null {
  const view = raw.subarray(0, end);
  let pos = from;
  for (;;) {
    const at = view.indexOf(dash, pos);
    if (at === -1) return null;
    pos = at + 1;
    if (at !== regionStart && raw[at - 1] !== LF) continue; // must start a line
    let i = at + dash.length;
    let close = false;
    if (raw[i] === 0x2d && raw[i + 1] === 0x2d && i + 1 < end) {
      close = true;
      i += 2;
    }
    while (i < end && (raw[i] === 0x20 || raw[i] === 0x09)) i++; // transport padding
    let next: number;
    if (i >= end) next = end;
    else if (raw[i] === LF) next = i + 1;
    else if (raw[i] === CR && raw[i + 1] === LF && i + 1 < end) next = i + 2;
    else continue; // "--boundaryX": a longer boundary, not ours
    let contentEnd = at;
    if (at > from && raw[at - 1] === LF) contentEnd = at - 1 > from && raw[at - 2] === CR ? at - 2 : at - 1;
    return { contentEnd, next, close };
  }
}

function disposition(fields: LocatedField[]): string {
  return parseStructured(getField(fields, 'content-disposition')).value;
}

/** Walks the message and returns the chosen HTML part or why there is none. Never throws on bad input. */
export function findTopHtml(raw: Buffer): WalkResult {
  let parts = 0;

  const visit = (start: number, end: number, depth: number, defaultType: string): Visit => {
    if (depth > MAX_DEPTH || ++parts > MAX_PARTS) return { found: false, reason: 'malformed' };
    const block = scanHeaderBlock(raw, start, end);
    if (block.overLimit) return { found: false, reason: 'malformed' };
    const ct = parseStructured(getField(block.fields, 'content-type'));
    // RFC 2045 5.2: a missing or unparsable Content-Type means the default
    const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(ct.value) ? ct.value : defaultType;
    if (disposition(block.fields) === 'attachment') return null;
    if (type === 'multipart/signed') return { found: false, reason: 'signed' };
    if (type === 'multipart/encrypted') return { found: false, reason: 'encrypted' };
    if (type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime') {
      const smime = (ct.params['smime-type'] ?? '').toLowerCase();
      return { found: false, reason: smime === 'signed-data' ? 'signed' : 'encrypted' };
    }
    if (type.startsWith('message/')) return null; // an attached message belongs to its own sender
    if (type.startsWith('multipart/')) {
      const boundary = ct.params['boundary'];
      if (!boundary || boundary.length > MAX_BOUNDARY_LENGTH) return { found: false, reason: 'malformed' };
      const dash = Buffer.from('--' + boundary, 'latin1');
      const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
      const first = findDelimiter(raw, dash, block.bodyStart, end, block.bodyStart);
      if (!first) return { found: false, reason: 'malformed' }; // a boundary that never appears
      let delim = first;
      while (!delim.close) {
        const partStart = delim.next;
        const after = findDelimiter(raw, dash, partStart, end, partStart);
        if (!after) return { found: false, reason: 'malformed' }; // no closing delimiter: end unknown
        const res = visit(partStart, after.contentEnd, depth + 1, childDefault);
        if (res) return res;
        delim = after;
      }
      return null;
    }
    if (type === 'text/html') {
      if (!block.separated) return { found: false, reason: 'malformed' };
      const encoding = parseStructured(getField(block.fields, 'content-transfer-encoding')).value || '7bit';
      const charset = (ct.params['charset'] ?? '').trim().toLowerCase() || 'us-ascii';
      return { found: true, part: { bodyStart: block.bodyStart, bodyEnd: Math.max(block.bodyStart, end), encoding, charset } };
    }
    return null;
  };

  return visit(0, raw.length, 0, 'text/plain') ?? { found: false, reason: 'no-html' };
}
