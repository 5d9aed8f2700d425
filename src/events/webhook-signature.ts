// Standard Webhooks signing (https://www.standardwebhooks.com, spec "Signature scheme"):
// HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" with the secret's bytes,
// sent as "v1,<base64>". The secret is "whsec_" + base64 key; a bare base64 key is
// accepted too, as the reference libraries do. The secret is never logged.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

/** Why a SigningSecret cannot be used, or null when it is fine. Node's base64 decoder is
 *  lenient; receivers' libraries are strict, so a key they cannot decode is refused here
 *  (the API should call this when a destination is created). */
export function signingSecretProblem(secret: string): string | null {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64) || b64 === '') {
    return 'SigningSecret must be "whsec_" followed by a base64 key';
  }
  return null;
}

/** The value of the `webhook-signature` header. */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSec}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** Receiver-side check (used by our own tools); constant-time over each listed signature. */
export function verifyWebhook(secret: string, id: string, timestampSec: number, body: string, header: string): boolean {
  const expected = Buffer.from(signWebhook(secret, id, timestampSec, body));
  return header.split(' ').some((sig) => {
    const got = Buffer.from(sig);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
