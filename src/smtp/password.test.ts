// SES SMTP password derivation against values computed independently (Python's hmac module
// following the AWS documentation's reference script), and the multi-region verifier.
import { describe, it, expect } from 'vitest';
import { sesSmtpPassword, verifySesSmtpPassword } from './password.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('sesSmtpPassword', () => {
  it('matches the documented algorithm (reference values from Python)', () => {
    expect(sesSmtpPassword(SECRET, 'us-east-1')).toBe('BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9');
    expect(sesSmtpPassword(SECRET, 'ru-central1')).toBe('BKxIHfmCyOEapiREqC1kqLfmWcEQFrMpsBRVzPZ/GI3Z');
  });

  it('is 33 bytes: version 0x04 then a SHA-256 HMAC', () => {
    const raw = Buffer.from(sesSmtpPassword('another-secret', 'eu-west-1'), 'base64');
    expect(raw.length).toBe(33);
    expect(raw[0]).toBe(4);
  });
});

describe('verifySesSmtpPassword', () => {
  const regions = ['us-east-1', 'ru-central1'];
  it('accepts the password of any configured region', () => {
    expect(verifySesSmtpPassword(sesSmtpPassword(SECRET, 'us-east-1'), SECRET, regions)).toBe(true);
    expect(verifySesSmtpPassword(sesSmtpPassword(SECRET, 'ru-central1'), SECRET, regions)).toBe(true);
  });
  it('refuses other regions, other secrets, the secret itself, and empty input', () => {
    expect(verifySesSmtpPassword(sesSmtpPassword(SECRET, 'eu-west-1'), SECRET, regions)).toBe(false);
    expect(verifySesSmtpPassword(sesSmtpPassword(SECRET + 'x', 'us-east-1'), SECRET, regions)).toBe(false);
    expect(verifySesSmtpPassword(SECRET, SECRET, regions)).toBe(false);
    expect(verifySesSmtpPassword('', SECRET, regions)).toBe(false);
    expect(verifySesSmtpPassword(sesSmtpPassword(SECRET, 'us-east-1'), SECRET, [])).toBe(false);
  });
});
