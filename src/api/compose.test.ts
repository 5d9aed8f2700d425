// Unit tests of message composition: envelopes of Raw messages, strict base64, address
// parsing, template rendering. The composed bytes are read back with postal-mime.
import { describe, expect, it } from 'vitest';
import PostalMime from 'postal-mime';
import { GatewayError } from '../errors.js';
import { bareAddresses, composeRaw, composeSimple, composeTemplate } from './compose.js';
import { escapeHtml, parseTemplateData, renderTemplate } from './template.js';

const env = (o: Partial<{ from: string; to: string[]; cc: string[]; bcc: string[] }> = {}) => ({ to: [], cc: [], bcc: [], replyTo: [], ...o });
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('composeRaw', () => {
  const raw = 'From: "Sender, Inc" <s@x.test>\r\nTo: a@r.test, "B" <b@r.test>\r\nCc: team: c@r.test, d@r.test;\r\nBcc: e@r.test\r\nSubject: x\r\n\r\nbody\r\n';

  it('takes the envelope from headers when the request gives none', () => {
    const m = composeRaw({ Data: b64(raw) }, env());
    expect(m.mailFrom).toBe('s@x.test');
    expect(m.recipients).toEqual(['a@r.test', 'b@r.test', 'c@r.test', 'd@r.test', 'e@r.test']);
    expect(m.raw.toString()).toBe(raw);
  });

  it('prefers FromEmailAddress and Destination', () => {
    const m = composeRaw({ Data: b64(raw) }, env({ from: 'Other <o@x.test>', bcc: ['z@r.test'] }));
    expect(m).toMatchObject({ mailFrom: 'o@x.test', recipients: ['z@r.test'] });
  });

  it('refuses bad base64 and missing From', () => {
    for (const data of ['not base64!', 'QUJD=A', 'QUJ', '']) {
      expect(() => composeRaw({ Data: data }, env())).toThrow(GatewayError);
    }
    expect(() => composeRaw({ Data: b64('To: a@r.test\r\n\r\nx') }, env())).toThrow(/From/);
  });
});

describe('composeSimple / composeTemplate', () => {
  it('builds a parseable message without a Bcc header', async () => {
    const m = await composeSimple({ Subject: { Data: 'Tschüß' }, Body: { Html: { Data: '<p>ü</p>' } } }, env({ from: 'S <s@x.test>', to: ['a@r.test'], bcc: ['hidden@r.test'] }));
    expect(m.recipients).toEqual(['a@r.test', 'hidden@r.test']);
    expect(m.raw.toString()).not.toMatch(/hidden@r\.test/);
    const p = await PostalMime.parse(m.raw);
    expect(p.subject).toBe('Tschüß');
    expect(p.html).toContain('<p>ü</p>');
  });

  it('refuses reserved or broken headers and bad attachments', async () => {
    const base = { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } };
    const e = env({ from: 's@x.test', to: ['a@r.test'] });
    await expect(composeSimple({ ...base, Headers: [{ Name: 'Content-Type', Value: 'text/html' }] }, e)).rejects.toThrow(GatewayError);
    await expect(composeSimple({ ...base, Headers: [{ Name: 'Bad Name', Value: 'x' }] }, e)).rejects.toThrow(GatewayError);
    await expect(composeSimple({ ...base, Attachments: [{ RawContent: '%%%', FileName: 'a' }] }, e)).rejects.toThrow(/base64/);
    await expect(composeSimple({ Subject: { Data: 's' }, Body: {} }, e)).rejects.toThrow(/Text or Html/);
    await expect(composeSimple(base, env({ to: ['a@r.test'] }))).rejects.toThrow(/FromEmailAddress/);
  });

  it('renders templates', async () => {
    const m = await composeTemplate({ TemplateContent: { Subject: 'Hi {{n}}', Html: '<b>{{n}}</b>' }, TemplateData: '{"n":"<x>"}' }, env({ from: 's@x.test', to: ['a@r.test'] }));
    const p = await PostalMime.parse(m.raw);
    expect(p.subject).toBe('Hi <x>');
    expect(p.html).toContain('<b>&lt;x&gt;</b>');
  });
});

describe('helpers', () => {
  it('bareAddresses', () => {
    expect(bareAddresses('"Doe, J" <j@d.test>, k@d.test', 'x')).toEqual(['j@d.test', 'k@d.test']);
    expect(() => bareAddresses('nobody', 'x')).toThrow(GatewayError);
    expect(() => bareAddresses('a@b.test\r\nBcc: c@d.test', 'x')).toThrow(/line breaks/);
  });

  it('templates', () => {
    expect(renderTemplate('{{a}}-{{ b.c }}-{{{a}}}-{{zz}}', { a: '<&>', b: { c: 1 } }, true)).toBe('&lt;&amp;&gt;-1-<&>-');
    expect(renderTemplate('{{a}}', { a: '<&>' }, false)).toBe('<&>');
    expect(renderTemplate('{{__proto__}}{{constructor}}', {}, false)).toBe('');
    expect(escapeHtml(`"'\`=`)).toBe('&quot;&#x27;&#x60;&#x3D;');
    expect(() => parseTemplateData('[1]')).toThrow(GatewayError);
    expect(parseTemplateData(undefined)).toEqual({});
  });
});
