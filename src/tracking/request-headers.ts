// The headers of a pixel request that an open keeps, read from the raw header list in one
// pass. Trusts nothing: values are returned as sent (bounded and parsed by the caller).

export interface PixelHeaders { userAgent: string | undefined; xff: string[] | undefined; forwarded: string[] | undefined }

/**
 * The three headers an open needs, in one pass over the raw list: req.headers would build an
 * object of every header the client sent (a browser sends a dozen), on the hot path. As
 * node does for req.headers: the first User-Agent counts; repeated forwarding headers are
 * all kept, in order.
 */
export function readHeaders(raw: readonly string[]): PixelHeaders {
  const out: PixelHeaders = { userAgent: undefined, xff: undefined, forwarded: undefined };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.length === 10) {
      if (out.userAgent === undefined && name.toLowerCase() === 'user-agent') out.userAgent = value;
    } else if (name.length === 15) {
      if (name.toLowerCase() === 'x-forwarded-for') (out.xff ??= []).push(value);
    } else if (name.length === 9) {
      if (name.toLowerCase() === 'forwarded') (out.forwarded ??= []).push(value);
    }
  }
  return out;
}
