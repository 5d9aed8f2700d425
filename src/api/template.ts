// Inline template rendering for SendEmail Content.Template (SES v2 TemplateContent +
// TemplateData). Supports the Handlebars subset SES users rely on most: {{name}} and
// {{a.b}} (HTML-escaped in the Html part), {{{name}}} (never escaped). A missing value renders
// as an empty string, as SES does. TemplateData is untrusted JSON from the client.
import { GatewayError } from '../errors.js';

const TAG_RE = /\{\{\{\s*([A-Za-z0-9_.$-]+)\s*\}\}\}|\{\{\s*([A-Za-z0-9_.$-]+)\s*\}\}/g;

export function parseTemplateData(data: string | undefined): Record<string, unknown> {
  if (data === undefined || data === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    throw new GatewayError('BadRequest', 'Content.Template.TemplateData is not valid JSON.');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new GatewayError('BadRequest', 'Content.Template.TemplateData must be a JSON object.');
  return v as Record<string, unknown>;
}

function lookup(data: Record<string, unknown>, path: string): string {
  let cur: unknown = data;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === null || cur === undefined) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]!);
}

export function renderTemplate(tpl: string, data: Record<string, unknown>, html: boolean): string {
  return tpl.replace(TAG_RE, (_m, raw: string | undefined, esc: string | undefined) => {
    if (raw !== undefined) return lookup(data, raw);
    const v = lookup(data, esc!);
    return html ? escapeHtml(v) : v;
  });
}
