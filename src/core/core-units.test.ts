// Unit tests of the pure parts of the send pipeline: address syntax, identity candidates,
// tag parsing and the `mail` object (RFC 2047 subjects, display names, header bounds).
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { addressProblem, normaliseAddress } from './addresses.js';
import { identityCandidates } from './identity.js';
import { buildMailObject, MAX_MAIL_HEADERS } from './mail-object.js';
import { checkTags, parseTagHeader } from './tags.js';

describe('addresses', () => {
  it('accepts ordinary and unicode addresses', () => {
    expect(addressProblem('a.b+tag@example.com')).toBeNull();
    expect(addressProblem('"odd name"@example.com')).toBeNull();
    expect(addressProblem('пользователь@пример.рф')).toBeNull();
  });
  it('rejects broken ones with a reason', () => {
    expect(addressProblem('')).toMatch(/empty/);
    expect(addressProblem('no-at-sign')).toMatch(/local@domain/);
    expect(addressProblem('a@localhost')).toMatch(/domain/);
    expect(addressProblem('a b@example.com')).toMatch(/local part/);
    expect(addressProblem('a@exa_mple.com')).toMatch(/domain/);
    expect(addressProblem('x'.repeat(65) + '@example.com')).toMatch(/64/);
  });
  it('takes the address out of a display-name form', () => {
    expect(normaliseAddress(' Jane Doe <jane@example.com> ', 'Recipient')).toBe('jane@example.com');
    expect(() => normaliseAddress('a@example.com, b@example.com <c@example.com>', 'Recipient')).toThrow(/single address|local/);
    expect(() => normaliseAddress('a@example.com\r\nRCPT TO:<x@y.z>', 'Recipient')).toThrow(/line break/);
  });
});

describe('identityCandidates', () => {
  it('goes from the address to parent domains, never the TLD', () => {
    expect(identityCandidates('Bob@Mail.Example.COM')).toEqual(['bob@mail.example.com', 'mail.example.com', 'example.com']);
    expect(identityCandidates('not an address')).toEqual([]);
  });
});

describe('tags', () => {
  it('parses the X-SES-MESSAGE-TAGS header', () => {
    expect(parseTagHeader('campaign=spring, user_id=42')).toEqual([{ Name: 'campaign', Value: 'spring' }, { Name: 'user_id', Value: '42' }]);
    expect(() => parseTagHeader('nonsense')).toThrow(GatewayError);
  });
  it('rejects reserved and malformed names', () => {
    expect(() => checkTags([{ Name: 'ses:x', Value: 'a' }])).toThrow(/reserved/);
    expect(() => checkTags([{ Name: 'a b', Value: 'a' }])).toThrow(/Invalid message tag name/);
    expect(() => checkTags([{ Name: 'a', Value: 'a b' }])).toThrow(/Invalid value/);
    expect(() => checkTags([{ Name: 'ok-name_1', Value: 'v.1@x' }])).not.toThrow();
  });
});

describe('buildMailObject', () => {
  const base = { acceptedAt: Date.UTC(2026, 0, 2, 3, 4, 5), messageId: 'm', mailFrom: 's@example.com', identity: 'example.com', recipients: ['r@example.net'], tags: { t: ['v'] } };
  it('decodes subjects and keeps display names', () => {
    const mail = buildMailObject({ ...base, headers: [
      { name: 'From', value: '=?UTF-8?B?0JjQstCw0L0=?= <s@example.com>' },
      { name: 'To', value: 'Bob <r@example.net>,\r\n "Doe, Jane" <j@example.net>, plain@example.net' },
      { name: 'Subject', value: '=?UTF-8?Q?Hello_=E2=9C=93?=' },
      { name: 'Message-ID', value: '<abc@example.com>' },
      { name: 'Date', value: 'Fri, 02 Jan 2026 03:04:05 +0000' },
    ] });
    expect(mail.timestamp).toBe('2026-01-02T03:04:05.000Z');
    const ch = mail.commonHeaders as Record<string, unknown>;
    expect(ch.from).toEqual(['Иван <s@example.com>']);
    expect(ch.to).toEqual(['Bob <r@example.net>', '"Doe, Jane" <j@example.net>', 'plain@example.net']);
    expect(ch.subject).toBe('Hello ✓');
    expect(ch.messageId).toBe('<abc@example.com>');
    expect(mail.headersTruncated).toBe(false);
    expect((mail.headers as { value: string }[])[1]!.value).not.toMatch(/\n/);
  });
  it('bounds the headers list and says so', () => {
    const headers = Array.from({ length: MAX_MAIL_HEADERS + 10 }, (_, i) => ({ name: `X-H${i}`, value: 'v' }));
    const mail = buildMailObject({ ...base, headers });
    expect((mail.headers as unknown[]).length).toBe(MAX_MAIL_HEADERS);
    expect(mail.headersTruncated).toBe(true);
  });
});
