// Shape checks for SES v2 JSON request members. Every failure is a BadRequestException whose
// message names the member path (e.g. "Content.Simple.Subject.Data must be a string"), so a
// client can fix its request; nothing here trusts the JSON it is given.
import { GatewayError } from '../errors.js';

export type Json = Record<string, unknown>;

function bad(msg: string): never {
  throw new GatewayError('BadRequest', msg);
}

export function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function optObj(o: Json, key: string, path: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) bad(`${path}${key} must be an object.`);
  return v;
}

export function reqObj(o: Json, key: string, path: string): Json {
  const v = optObj(o, key, path);
  if (v === undefined) bad(`${path}${key} is required.`);
  return v;
}

export function optStr(o: Json, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(`${path}${key} must be a string.`);
  return v;
}

export function reqStr(o: Json, key: string, path: string): string {
  const v = optStr(o, key, path);
  if (v === undefined || v === '') bad(`${path}${key} is required.`);
  return v;
}

export function optBool(o: Json, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') bad(`${path}${key} must be a boolean.`);
  return v;
}

export function optInt(o: Json, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${path}${key} must be an integer from ${min} to ${max}.`);
  return v;
}

export function optStrArray(o: Json, key: string, path: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(`${path}${key} must be a list of strings.`);
  return v as string[];
}

export function optObjArray(o: Json, key: string, path: string): Json[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => !isObj(x))) bad(`${path}${key} must be a list of objects.`);
  return v as Json[];
}

/** SES names of configuration sets and event destinations: letters, digits, _ and -, 1..64. */
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function checkName(what: string, v: string): string {
  if (!NAME_RE.test(v)) bad(`${what} "${v.slice(0, 80)}" is not valid: use 1-64 letters, digits, underscores or dashes.`);
  return v;
}

/** Page size for list operations: SES caps at 1000; default 100. */
export function pageSize(v: unknown, path: string): number {
  if (v === undefined || v === null || v === '') return 100;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1000) bad(`${path} must be an integer from 1 to 1000.`);
  return n;
}

/** Parses a time given as RFC 3339 text or epoch milliseconds. */
export function optTime(o: Json, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  bad(`${path}${key} must be an RFC 3339 time or epoch milliseconds.`);
}
