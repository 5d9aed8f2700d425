// injectPixel: splices the tracking pixel into the top HTML part of a raw message and leaves
// every other byte as it was (output = input with one span of the chosen part's body
// replaced). Follows RFC 2045/2046 for structure and encodings; trusts nothing in the input:
// any doubt about structure, charset or encoding means "skip, unchanged, with a reason".

import { classifyCharset, encodeInsert, jisModeAt, textView, type CharsetKind } from './charset.js';
import { detectEol, scanHeaderBlock } from './headers.js';
import { MAX_LINE_OCTETS, MAX_MESSAGE_BYTES } from './limits.js';
import { insertionPoint, pixelMarkup } from './pixel.js';
import { base64Encode, base64Payload, qpDecode, qpSplice } from './transfer.js';
import { findTopHtml } from './walk.js';

export type SkipReason = 'no-html' | 'signed' | 'encrypted' | 'dkim-signed' | 'too-large' | 'malformed' | 'unsupported-charset';

export type InjectResult =
  | { injected: true; output: Buffer }
  | { injected: false; output: Buffer /* === input, unchanged */; reason: SkipReason };

const LF = 0x0a;
const CR = 0x0d;

/** Never throws: any unexpected failure is reported as 'malformed' with the input unchanged. */
export function injectPixel(raw: Buffer, pixelUrl: string, opts?: { maxBytes?: number }): InjectResult {
  try {
    return inject(raw, pixelUrl, opts?.maxBytes);
  } catch {
    return { injected: false, output: raw, reason: 'malformed' };
  }
}

/** injectPixel without the safety net, so the fuzz test can see an exception that would hide as 'malformed'. Internal. */
export function injectUnguarded(raw: Buffer, pixelUrl: string, opts?: { maxBytes?: number }): InjectResult {
  return inject(raw, pixelUrl, opts?.maxBytes);
}

function inject(raw: Buffer, pixelUrl: string, maxBytesOpt: number | undefined): InjectResult {
  const skip = (reason: SkipReason): InjectResult => ({ injected: false, output: raw, reason });
  // 0, NaN or a negative limit must not silently turn the limit off
  const maxBytes = maxBytesOpt !== undefined && Number.isFinite(maxBytesOpt) && maxBytesOpt > 0 ? maxBytesOpt : MAX_MESSAGE_BYTES;
  if (raw.length > maxBytes) return skip('too-large');

  const top = scanHeaderBlock(raw, 0, raw.length);
  if (top.overLimit) return skip('malformed');
  // any change to a DKIM-signed message breaks the signature; the gateway signs after injecting
  if (top.fields.some((f) => f.name.toLowerCase() === 'dkim-signature')) return skip('dkim-signed');

  const walk = findTopHtml(raw);
  if (!walk.found) return skip(walk.reason);
  const { bodyStart, bodyEnd, encoding, charset } = walk.part;
  const body = raw.subarray(bodyStart, bodyEnd);
  const eol = detectEol(raw);
  const markup = pixelMarkup(pixelUrl);

  if (encoding === '7bit' || encoding === '8bit' || encoding === 'binary') {
    const cs = classifyCharset(charset, body);
    if (!cs) return skip('unsupported-charset');
    const at = locate(body, cs);
    if (at === null) return skip('malformed');
    const text = encoding === 'binary' || cs.kind === 'utf-16' ? markup : keepLineLimit(body, at, markup, eol);
    const insert = encodeInsert(text, cs, cs.kind === 'iso-2022-jp' ? jisModeAt(body, at) : '');
    const cut = bodyStart + at;
    return { injected: true, output: Buffer.concat([raw.subarray(0, cut), insert, raw.subarray(cut)]) };
  }

  if (encoding === 'quoted-printable') {
    const { decoded, lines } = qpDecode(body);
    const cs = classifyCharset(charset, decoded);
    if (!cs) return skip('unsupported-charset');
    const at = locate(decoded, cs);
    if (at === null) return skip('malformed');
    const insert = encodeInsert(markup, cs, cs.kind === 'iso-2022-jp' ? jisModeAt(decoded, at) : '');
    const s = qpSplice(body, decoded, lines, at, insert, eol);
    return {
      injected: true,
      output: Buffer.concat([raw.subarray(0, bodyStart + s.start), s.bytes, raw.subarray(bodyStart + s.end)]),
    };
  }

  if (encoding === 'base64') {
    const payload = base64Payload(body);
    if (!payload) return skip('malformed'); // invalid base64: re-encoding would silently change the data
    const decoded = Buffer.from(body.toString('latin1', payload.start, payload.end), 'base64');
    const cs = classifyCharset(charset, decoded);
    if (!cs) return skip('unsupported-charset');
    const at = locate(decoded, cs);
    if (at === null) return skip('malformed');
    const insert = encodeInsert(markup, cs, cs.kind === 'iso-2022-jp' ? jisModeAt(decoded, at) : '');
    const encoded = base64Encode(Buffer.concat([decoded.subarray(0, at), insert, decoded.subarray(at)]), payload.lineLength, eol);
    return {
      injected: true,
      output: Buffer.concat([raw.subarray(0, bodyStart + payload.start), encoded, raw.subarray(bodyStart + payload.end)]),
    };
  }

  return skip('malformed'); // x-uuencode and friends: no safe way to re-encode
}

/** Byte offset of the insertion point in the decoded body, or null when the bytes cannot be read as the charset says. */
function locate(decoded: Buffer, cs: CharsetKind): number | null {
  if (cs.kind === 'utf-16' && decoded.length % 2 !== 0) return null; // half a code unit: not UTF-16
  const view = textView(decoded, cs);
  return insertionPoint(view.text) * view.bytesPerUnit;
}

/**
 * In 7bit/8bit bodies a line may not pass 998 octets (RFC 5322 2.1.1). When the markup would
 * push its line past that, it goes on a line of its own (a line break between tags is
 * whitespace to HTML). A line that was already too long is left as the sender made it.
 */
function keepLineLimit(body: Buffer, at: number, markup: string, eol: string): string {
  const lineStart = at === 0 ? 0 : body.lastIndexOf(LF, at - 1) + 1;
  let lineEnd = body.indexOf(LF, at);
  if (lineEnd === -1) lineEnd = body.length;
  else if (lineEnd > at && body[lineEnd - 1] === CR) lineEnd--;
  const before = at - lineStart;
  const after = lineEnd - at;
  if (before + after > MAX_LINE_OCTETS || before + markup.length + after <= MAX_LINE_OCTETS) return markup;
  const breakBefore = before > 0 && before + markup.length > MAX_LINE_OCTETS;
  const breakAfter = after > 0 && (breakBefore ? 0 : before) + markup.length + after > MAX_LINE_OCTETS;
  return (breakBefore ? eol : '') + markup + (breakAfter ? eol : '');
}
