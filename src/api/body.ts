// Reads a request body with a hard byte limit and parses it as a JSON object.
// Trusts nothing: Content-Length is checked before reading and the running total while
// reading, so an oversize upload is refused (413, SES shape) without buffering it all.
import type http from 'node:http';
import { GatewayError } from '../errors.js';

/** Refuses a declared Content-Length over the limit before anything else is done. */
export function checkDeclaredLength(req: http.IncomingMessage, limit: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw new GatewayError('PayloadTooLarge', `Request body is larger than ${limit} bytes.`);
}

export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      reject(new GatewayError('PayloadTooLarge', `Request body is larger than ${limit} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (err: Error | null, buf?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(buf!);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        chunks.length = 0;
        finish(new GatewayError('PayloadTooLarge', `Request body is larger than ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(null, Buffer.concat(chunks, total));
    const onError = (e: Error) => finish(e);
    // A client that hangs up mid-body must not leave this promise pending forever.
    const onClose = () => finish(new Error('client closed the connection before the body ended'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.once('close', onClose);
  });
}

/** Empty body counts as {} (SES accepts bodiless PUT/POST for operations without members). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GatewayError('BadRequest', 'The request body is not valid JSON.');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new GatewayError('BadRequest', 'The request body must be a JSON object.');
  return v as Record<string, unknown>;
}
