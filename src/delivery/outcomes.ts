// Turns what happened to one recipient into the outbound outcome and its notification
// events (SES / Postbox event publishing format: `delivery`, `bounce`, `deliveryDelay`
// blocks). Pure: time, ids and host name come in as arguments.
import { randomUUID } from 'node:crypto';
import { rfc3339 } from '../events/model.js';
import type { OutboundJob, OutboundOutcome } from '../store/port.js';

export interface OutcomeContext {
  now: number;
  /** Name this gateway reports as the MTA (SES: reportingMTA). */
  hostname: string;
}

/** RFC 3463 enhanced status from a reply text, else derived from the reply class. */
export function enhancedStatus(response: string, fallbackClass: 4 | 5): string {
  const m = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response) ?? /\b([45]\.\d{1,3}\.\d{1,3})\b/.exec(response);
  return m ? m[1]! : `${fallbackClass}.0.0`;
}

/** Diagnostic in the DSN form SES uses ("smtp; 550 5.1.1 ..."). */
function diagnostic(response: string): string {
  return `smtp; ${response.replace(/\s+/g, ' ').trim().slice(0, 500)}`;
}

export function delivered(job: OutboundJob, ctx: OutcomeContext, smtpResponse: string,
  state: 'delivered' | 'captured' = 'delivered'): OutboundOutcome {
  return {
    outboundId: job.id,
    state,
    lastError: null,
    events: [{
      kind: 'Delivery',
      at: ctx.now,
      detail: {
        timestamp: rfc3339(ctx.now),
        processingTimeMillis: Math.max(0, ctx.now - job.acceptedAt),
        recipients: [job.recipient],
        smtpResponse,
        reportingMTA: ctx.hostname,
      },
    }],
  };
}

export function bounced(job: OutboundJob, ctx: OutcomeContext, response: string, opts: {
  bounceType?: 'Permanent' | 'Transient'; subType?: 'General' | 'Suppressed' | 'NoEmail'; status?: string;
  state?: 'bounced' | 'suppressed'; diagnosticCode?: string;
} = {}): OutboundOutcome {
  const status = opts.status ?? enhancedStatus(response, 5);
  return {
    outboundId: job.id,
    state: opts.state ?? 'bounced',
    lastError: response.slice(0, 500),
    events: [{
      kind: 'Bounce',
      at: ctx.now,
      detail: {
        bounceType: opts.bounceType ?? 'Permanent',
        bounceSubType: opts.subType ?? 'General',
        bouncedRecipients: [{ emailAddress: job.recipient, action: 'failed', status, diagnosticCode: opts.diagnosticCode ?? diagnostic(response) }],
        timestamp: rfc3339(ctx.now),
        feedbackId: `${randomUUID()}-000000`,
        reportingMTA: `dsn; ${ctx.hostname}`,
      },
    }],
  };
}

/** SES delayType from the failure: see "Contents of event data", DeliveryDelay object. */
export function delayType(response: string, connection: boolean): string {
  if (connection) return 'TransientCommunicationFailure';
  const status = enhancedStatus(response, 4);
  if (/^452\b/.test(response) || status === '4.2.2') return 'MailboxFull';
  if (status.startsWith('4.7.')) return 'SpamDetected';
  return 'RecipientServerError';
}

/**
 * A transient failure: retry at `nextAttemptAt`, emitting the recipient's one DeliveryDelay
 * on the first failure. `expiresAt` is when retries stop (reported as expirationTime).
 */
export function retry(job: OutboundJob, ctx: OutcomeContext, response: string, connection: boolean,
  nextAttemptAt: number, expiresAt: number): OutboundOutcome {
  const out: OutboundOutcome = { outboundId: job.id, state: 'retry', nextAttemptAt, lastError: response.slice(0, 500), events: [] };
  if (!job.delayEmitted) {
    out.delayEmitted = true;
    out.events.push({
      kind: 'DeliveryDelay',
      at: ctx.now,
      detail: {
        delayType: delayType(response, connection),
        delayedRecipients: [{ emailAddress: job.recipient, status: enhancedStatus(response, 4), diagnosticCode: diagnostic(response) }],
        timestamp: rfc3339(ctx.now),
        expirationTime: rfc3339(expiresAt),
        reportingMTA: ctx.hostname,
      },
    });
  }
  return out;
}
