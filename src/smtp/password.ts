// SES-style SMTP credentials: username = access key id, password = a one-way derivation of
// the secret access key, so the secret itself never travels over SMTP. Follows the algorithm
// AWS documents ("Obtaining Amazon SES SMTP credentials": HMAC-SHA256 chain over
// date "11111111", region, "ses", "aws4_request", "SendRawEmail", version byte 0x04, base64).
// Trusts nothing from the client: comparisons are constant-time over fixed-length digests.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const DATE = '11111111';
const SERVICE = 'ses';
const TERMINAL = 'aws4_request';
const MESSAGE = 'SendRawEmail';
const VERSION = 0x04;

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The SES SMTP password for a secret access key in one region (what `mailbeacon keys smtp-password` prints). */
export function sesSmtpPassword(secretAccessKey: string, region: string): string {
  let sig = hmac(`AWS4${secretAccessKey}`, DATE);
  sig = hmac(sig, region);
  sig = hmac(sig, SERVICE);
  sig = hmac(sig, TERMINAL);
  sig = hmac(sig, MESSAGE);
  return Buffer.concat([Buffer.from([VERSION]), sig]).toString('base64');
}

// Hashing both sides first gives equal-length buffers for timingSafeEqual, so neither the
// length nor the content of the client's guess shows in the comparison time.
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * True when `password` is the SES SMTP password of `secretAccessKey` for any of `regions`.
 * Every region is compared (no early exit), so timing does not reveal which one matched.
 */
export function verifySesSmtpPassword(password: string, secretAccessKey: string, regions: readonly string[]): boolean {
  const given = digest(password);
  let ok = false;
  for (const region of regions) {
    if (timingSafeEqual(given, digest(sesSmtpPassword(secretAccessKey, region)))) ok = true;
  }
  return ok;
}
