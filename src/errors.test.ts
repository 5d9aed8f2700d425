// Keeps README's error table and the one error registry (errors.ts) in step: every entry's
// SES code, HTTP status and SMTP reply appear together on one row of the table, and the
// table has no row the registry does not produce.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERRORS, GatewayError } from './errors.js';

const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
const table = readme.slice(readme.indexOf('| failure | SES `Code` | HTTP | SMTP |'));
const lines = table.split('\n').slice(2);
const rows = lines.slice(0, lines.findIndex((l) => !l.startsWith('|'))).map((l) => l.split('|').map((c) => c.trim()));

describe('error registry', () => {
  it('README lists every registry entry with its SES code, HTTP status and SMTP reply', () => {
    for (const [name, spec] of Object.entries(ERRORS)) {
      const row = rows.find((r) => r[2] === `\`${spec.sesCode}\`` && r[3] === String(spec.httpStatus) && r[4] === `\`${spec.smtp.code} ${spec.smtp.enhanced}\``);
      expect(row, `README row for ${name} (${spec.sesCode} ${spec.httpStatus} ${spec.smtp.code} ${spec.smtp.enhanced})`).toBeDefined();
    }
  });

  it('README lists nothing the registry does not have', () => {
    expect(rows.length).toBe(Object.keys(ERRORS).length);
  });

  it('a GatewayError carries its spec and a default message without internals', () => {
    const e = new GatewayError('MessageTooLarge');
    expect(e.spec.smtp).toEqual({ code: 552, enhanced: '5.3.4' });
    expect(e.message).toBe('Message is too large.');
    expect(new GatewayError('BadRequest', 'Destination is missing.').message).toBe('Destination is missing.');
  });
});
