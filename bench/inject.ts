// Pixel injector benchmark: in one process and one run, on messages of ~5 KB, ~100 KB and
// ~2 MB (with attachments), measures a plain copy of the bytes (baseline), our byte-splicing
// injector (src/mime) and the naive approach (mailparser parse + nodemailer MailComposer rebuild).
// Prints MB/s and ratios as a markdown table. Run: `npm run bench:inject`.

import { randomBytes } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { injectPixel, pixelMarkup } from '../src/mime/index.js';

const PIXEL = 'https://t.example.com/o/v1.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const BUDGET_MS = Number(process.env.BENCH_MS ?? 1500); // per cell; 9 cells + warm-up stay well under 60 s

function html(bytes: number): string {
  const para = '<p style="font-family:Arial,sans-serif;color:#333">Привет! Здравствуйте — this is a paragraph of a newsletter with a <a href="https://example.com/x?utm=1">link</a> and some ümlauts.</p>\n';
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>bench</title></head><body>\n${para.repeat(Math.max(1, Math.round(bytes / Buffer.byteLength(para))))}</body></html>\n`;
}

async function compose(htmlBytes: number, attachments: { filename: string; content: Buffer; cid?: string }[]): Promise<Buffer> {
  const text = 'Plain text version. '.repeat(Math.max(1, Math.round(htmlBytes / 80)));
  return new MailComposer({
    from: 'Sender <sender@example.com>', to: 'rcpt@example.net', subject: 'Benchmark message',
    text, html: html(htmlBytes), attachments,
  }).compile().build();
}

async function naive(raw: Buffer): Promise<Buffer> {
  const m = await simpleParser(raw, { skipImageLinks: true });
  const pixel = pixelMarkup(PIXEL);
  const h = typeof m.html === 'string' ? m.html : '';
  const at = h.toLowerCase().lastIndexOf('</body>');
  const addr = (a: AddressObject | AddressObject[] | undefined): string | undefined => (Array.isArray(a) ? a.map((x) => x.text).join(', ') : a?.text);
  return new MailComposer({
    from: addr(m.from), to: addr(m.to), subject: m.subject, messageId: m.messageId, date: m.date,
    text: m.text, html: at === -1 ? h + pixel : h.slice(0, at) + pixel + h.slice(at),
    attachments: m.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType, cid: a.cid, contentDisposition: a.contentDisposition as 'attachment' | 'inline' })),
  }).compile().build();
}

async function measure(raw: Buffer, fn: (b: Buffer) => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await fn(raw); // warm-up: JIT, lazy requires
  let iters = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < BUDGET_MS || iters < 5) {
    await fn(raw);
    iters++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (raw.length * iters) / (elapsed / 1000) / 1e6;
}

const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

async function main(): Promise<void> {
  const inline = randomBytes(30_000);
  const messages: [string, Buffer][] = [
    ['~5 KB (alternative, QP)', await compose(1_800, [])],
    ['~100 KB (related, inline image)', await compose(45_000, [{ filename: 'logo.png', content: inline, cid: 'logo@bench' }])],
    ['~2 MB (mixed, 2 attachments)', await compose(60_000, [{ filename: 'report.pdf', content: randomBytes(900_000) }, { filename: 'photo.jpg', content: randomBytes(500_000) }])],
  ];
  const rows: string[] = [];
  for (const [label, raw] of messages) {
    const check = injectPixel(raw, PIXEL);
    if (!check.injected) throw new Error(`bench message ${label} was not injected: ${check.reason}`);
    const copy = await measure(raw, (b) => Buffer.from(b));
    const ours = await measure(raw, (b) => injectPixel(b, PIXEL));
    const slow = await measure(raw, naive);
    rows.push(`| ${label} | ${(raw.length / 1024).toFixed(1)} KiB | ${fmt(copy)} | ${fmt(ours)} | ${fmt(slow)} | **${fmt(ours / slow)}×** | ${fmt(copy / ours)}× |`);
  }
  console.log(`Node ${process.version}, ${BUDGET_MS} ms per cell, MB/s = 10^6 bytes of input per second\n`);
  console.log('| message | size | copy (baseline) MB/s | injector MB/s | naive parse+rebuild MB/s | injector vs naive | copy vs injector |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

await main();
