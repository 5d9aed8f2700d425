// `mailbeacon inject` as a user runs it: a real child process (node + tsx on src/cli.ts), the
// message on stdin, bytes compared with the library's result, outcome and exit codes checked.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { injectPixel } from '../mime/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const golden = (n: string): Buffer => fs.readFileSync(path.join(root, 'src/mime/golden', n));

function run(args: string[], stdin: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(stdin);
  });
}

describe('mailbeacon inject', { timeout: 90_000 }, () => {
  const url = 'https://px.example/o/v1.tok?a=1&b=2';

  it('writes the rewritten message to stdout and "injected" to stderr', async () => {
    const input = golden('03-mixed-alternative-attachment.in.eml');
    const r = await run(['inject', '--url', url], input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('injected\n');
    expect(r.stdout.equals(injectPixel(input, url).output)).toBe(true);
    expect(r.stdout.equals(input)).toBe(false);
  });

  it('passes a skipped message through unchanged with the reason', async () => {
    const input = golden('31-signed.in.eml');
    const r = await run(['inject', '--url', url], input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('signed\n');
    expect(r.stdout.equals(input)).toBe(true);
  });

  it('honours --max-bytes', async () => {
    const input = golden('01-html-only.in.eml');
    const r = await run(['inject', '--url', url, '--max-bytes', '100'], input);
    expect([r.code, r.stderr]).toEqual([0, 'too-large\n']);
    expect(r.stdout.equals(input)).toBe(true);
  });

  it('exits 2 with a message on a missing or invalid --url', async () => {
    const [missing, bad, badMax] = await Promise.all([
      run(['inject'], Buffer.from('x')),
      run(['inject', '--url', 'javascript:alert(1)'], Buffer.from('x')),
      run(['inject', '--url', url, '--max-bytes', '0'], Buffer.from('x')),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--url/);
    expect(missing.stdout.length).toBe(0);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/http/);
    expect(badMax.code).toBe(2);
  }, 90_000);
});
