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
