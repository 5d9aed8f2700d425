// The pixel response, built once at start-up: a 43-byte transparent 1x1 GIF89a and the
// header lists for each answer the public listener gives. Headers forbid every cache
// (browser, proxy, mail client) so each load of the pixel reaches us (DESIGN "Repeat loads").
// Trusts: nothing; holds no request data.

/** GIF89a, 1x1, two-colour table, Graphic Control Extension marking colour 0 transparent. */
export const PIXEL_GIF: Buffer = Buffer.from(
  '47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020244010' + '03b',
  'hex',
);

const NO_CACHE = 'no-store, no-cache, must-revalidate, private, max-age=0';

/** Flat [name, value, ...] lists, the shape res.writeHead accepts without building objects. */
export const GIF_HEADERS: readonly string[] = [
  'Content-Type', 'image/gif',
  'Content-Length', String(PIXEL_GIF.length),
  'Cache-Control', NO_CACHE,
  'Pragma', 'no-cache',
  'Expires', '0',
  'X-Content-Type-Options', 'nosniff',
];

export const NOT_FOUND_HEADERS: readonly string[] = [
  'Content-Length', '0',
  'Cache-Control', NO_CACHE,
];

export const NOT_ALLOWED_HEADERS: readonly string[] = [
  'Allow', 'GET, HEAD',
  'Content-Length', '0',
  'Cache-Control', NO_CACHE,
];

/** The store could not make the open durable: no GIF, so nothing claims it was recorded. */
export const UNAVAILABLE_HEADERS: readonly string[] = [
  'Retry-After', '5',
  'Content-Length', '0',
  'Cache-Control', NO_CACHE,
];
