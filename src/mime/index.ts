// Public surface of mime/: pure functions over raw message bytes (no I/O). The core pipeline
// calls injectPixel and the header helpers; everything else in this folder is internal.
// Trusts nothing in the bytes; never throws from injectPixel (see inject.ts).

export { injectPixel, type InjectResult, type SkipReason } from './inject.js';
export { pixelMarkup } from './pixel.js';
export { readHeaders, removeHeaders, prependHeaders, detectEol, type HeaderField } from './headers.js';
export * as limits from './limits.js';
