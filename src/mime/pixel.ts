// The tracking pixel markup and where it goes in an HTML document. The markup is pure ASCII
// so it can be written into any ASCII-compatible charset unchanged; the place follows the
// issue: before the last </body> outside comments, else before the last </html>, else the end.

/** HTML-escapes a URL for a double-quoted attribute; non-ASCII and controls are percent-encoded first. */
function attrUrl(url: string): string {
  const ascii = url.replace(/[^\x21-\x7e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: encodeURIComponent throws, write U+FFFD instead
    }
  });
  return ascii.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The <img> markup (ASCII). Why each attribute:
 * - width="1" height="1": the image's box is reserved before it loads, so nothing reflows;
 *   Outlook (Word engine) honours these attributes and ignores most CSS sizes.
 * - alt="": with images blocked, clients show no placeholder text or broken-image label.
 * - border="0": old clients (and Outlook) draw a border round images otherwise.
 * - style display:block: an inline image would add a whole line box (~20px) after the last
 *   block; a block adds exactly 1px. No display:none: Gmail no longer fetches such images.
 * - style width/height/border/margin/padding 0-1px: undoes client CSS resets that scale
 *   images (max-width:100%, padding) or add spacing; no background colour, so dark-mode
 *   inversion has nothing to invert (the GIF itself is transparent).
 */
export function pixelMarkup(pixelUrl: string): string {
  return (
    `<img src="${attrUrl(pixelUrl)}" width="1" height="1" alt="" border="0"` +
    ` style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;" />`
  );
}

// Comments are consumed whole (an unterminated one runs to the end), so a </body> inside one
// is never a match. Linear: each alternative either consumes input or fails at once.
const TAGS = /<!--[\s\S]*?(?:-->|$)|<\/(body|html)(?=[\s>/])/gi;

/** Offset (in chars of `text`) where the markup goes. */
export function insertionPoint(text: string): number {
  let lastBody = -1;
  let lastHtml = -1;
  TAGS.lastIndex = 0;
  for (let m = TAGS.exec(text); m; m = TAGS.exec(text)) {
    const tag = m[1];
    if (tag === undefined) continue;
    if (tag.length === 4 && tag.toLowerCase() === 'body') lastBody = m.index;
    else lastHtml = m.index;
  }
  if (lastBody !== -1) return lastBody;
  if (lastHtml !== -1) return lastHtml;
  // No closing tag: the end of the content, but before one final line break so the part
  // (and a single-part message) still ends with one.
  if (text.endsWith('\r\n')) return text.length - 2;
  if (text.endsWith('\n')) return text.length - 1;
  return text.length;
}
