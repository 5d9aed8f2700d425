// `mailbeacon inject --url <pixel-url> < in.eml > out.eml`: runs the pixel injector (mime/) on
// one message from stdin. The message (rewritten or unchanged) goes to stdout, the outcome
// (`injected` or the skip reason) to stderr, exit 0; a usage error exits 2 (see cli.ts).
// Trusts stdin as data only: whatever it holds, the injector never throws.

import { InvalidArgumentError, type Command } from 'commander';
import { injectPixel } from '../mime/index.js';
import { MAX_MESSAGE_BYTES } from '../mime/limits.js';

/** An absolute http(s) URL, or a commander usage error. */
export function parsePixelUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('not an absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError('the pixel URL must be http: or https:.');
  return value;
}

function parseMaxBytes(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer));
  return Buffer.concat(chunks);
}

export function registerInject(program: Command): void {
  program
    .command('inject')
    .description('insert the tracking pixel into the message on stdin; the message goes to stdout, the outcome to stderr')
    .requiredOption('--url <pixel-url>', 'absolute http(s) URL of the tracking pixel', parsePixelUrl)
    .option('--max-bytes <n>', `largest message to rewrite (default ${MAX_MESSAGE_BYTES})`, parseMaxBytes)
    .action(async (opts: { url: string; maxBytes?: number }) => {
      const raw = await readAll(process.stdin);
      const result = injectPixel(raw, opts.url, opts.maxBytes === undefined ? undefined : { maxBytes: opts.maxBytes });
      await new Promise<void>((resolve, reject) => process.stdout.write(result.output, (err) => (err ? reject(err) : resolve())));
      process.stderr.write(`${result.injected ? 'injected' : result.reason}\n`);
    });
}
