// Writes SES v2 (restJson1) responses: JSON bodies, and errors as HTTP status +
// {"Code","message"} + x-amzn-ErrorType so AWS SDKs raise the exception class named by Code.
// Trusts only the error registry (src/errors.ts): an unknown error becomes InternalFailure
// with no detail for the client; the detail goes to the log (never secrets: we log names only).
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { ERRORS, isGatewayError } from '../errors.js';
import { StoreConflict } from '../store/port.js';

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body ?? {}));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': data.length,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(data);
}

export function sendBytes(res: http.ServerResponse, status: number, contentType: string, data: Buffer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': data.length, 'x-amzn-requestid': randomUUID() });
  res.end(data);
}

/** The wire form of an error: what the client sees. */
export interface WireError { status: number; code: string; message: string }

export function toWireError(err: unknown, log: Log): WireError {
  if (isGatewayError(err)) return { status: err.spec.httpStatus, code: err.spec.sesCode, message: err.message };
  // The store signals uniqueness violations with its own type; the API names it like SES.
  if (err instanceof StoreConflict) return { status: ERRORS.AlreadyExists.httpStatus, code: ERRORS.AlreadyExists.sesCode, message: err.message };
  log('api: internal error', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err), stack: err instanceof Error ? err.stack : undefined });
  return { status: ERRORS.Internal.httpStatus, code: ERRORS.Internal.sesCode, message: ERRORS.Internal.message };
}

export function sendError(res: http.ServerResponse, err: unknown, log: Log, extraHeaders: Record<string, string> = {}): void {
  const w = toWireError(err, log);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const data = Buffer.from(JSON.stringify({ Code: w.code, message: w.message }));
  res.writeHead(w.status, {
    'content-type': 'application/json',
    'content-length': data.length,
    'x-amzn-errortype': w.code,
    'x-amzn-requestid': randomUUID(),
    ...extraHeaders,
  });
  res.end(data);
}
