// Unit tests of the delivery stage's pure parts: reply classification, enhanced status
// extraction, delay types, event shapes, simulator address recognition and the backoff curve.
import { describe, expect, it } from 'vitest';
import type { OutboundJob } from '../store/port.js';
import { bounced, delayType, delivered, enhancedStatus, retry } from './outcomes.js';
import { verdictFromError } from './relay.js';
import { simulatorScenario } from './simulator.js';
import { defaultBackoff } from './worker.js';

const job: OutboundJob = {
  id: 7, messageId: 'm', recipient: 'r@dest.test', attempts: 0, firstFailureAt: null, delayEmitted: false,
  acceptedAt: 1_000, mailFrom: 's@example.com', deliveryOptions: {},
};
const ctx = { now: 3_500, hostname: 'mta.test' };

describe('verdictFromError', () => {
  it('classifies SMTP replies by class, 503 as temporary', () => {
    expect(verdictFromError({ responseCode: 550, response: '550 5.1.1 no' })).toEqual({ kind: 'permanent', response: '550 5.1.1 no' });
    expect(verdictFromError({ responseCode: 451, response: '451 later' })).toMatchObject({ kind: 'temporary', connection: false });
    expect(verdictFromError({ responseCode: 503, response: '503 bad sequence' })).toMatchObject({ kind: 'temporary' });
  });
  it('prefers the per-recipient reply and treats connection errors as temporary', () => {
    expect(verdictFromError({ responseCode: 550, rejectedErrors: [{ responseCode: 452, response: '452 full' }] }))
      .toMatchObject({ kind: 'temporary', response: '452 full' });
    expect(verdictFromError({ code: 'ESOCKET', message: 'connect ECONNREFUSED' })).toMatchObject({ kind: 'temporary', connection: true });
    // A 5xx to STARTTLS or AUTH is about our session, not the recipient: never a bounce.
    expect(verdictFromError({ code: 'ETLS', command: 'STARTTLS', responseCode: 500, response: '500 not recognized' })).toMatchObject({ kind: 'temporary', connection: true });
    expect(verdictFromError({ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 bad credentials' })).toMatchObject({ kind: 'temporary', connection: true });
  });
});

describe('outcomes', () => {
  it('reads enhanced status codes or falls back to the class', () => {
    expect(enhancedStatus('550 5.1.1 <x> unknown', 5)).toBe('5.1.1');
    expect(enhancedStatus('550 unknown', 5)).toBe('5.0.0');
    expect(enhancedStatus('ESOCKET refused', 4)).toBe('4.0.0');
  });
  it('maps delay types', () => {
    expect(delayType('x', true)).toBe('TransientCommunicationFailure');
    expect(delayType('452 4.2.2 mailbox full', false)).toBe('MailboxFull');
    expect(delayType('451 4.7.1 greylisted', false)).toBe('SpamDetected');
    expect(delayType('451 4.3.0 later', false)).toBe('RecipientServerError');
  });
  it('builds Delivery, Bounce and one DeliveryDelay', () => {
    const d = delivered(job, ctx, '250 ok');
    expect(d).toMatchObject({ outboundId: 7, state: 'delivered', events: [{ kind: 'Delivery', at: 3_500, detail: { processingTimeMillis: 2_500, recipients: ['r@dest.test'], smtpResponse: '250 ok' } }] });
    const b = bounced(job, ctx, '550 5.1.1 no such user');
    expect(b.events[0]!.detail).toMatchObject({ bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'r@dest.test', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 no such user' }] });
    const first = retry(job, ctx, '451 4.3.0 later', false, 9_000, 99_000);
    expect(first).toMatchObject({ state: 'retry', nextAttemptAt: 9_000, delayEmitted: true });
    expect(first.events[0]!.detail).toMatchObject({ expirationTime: new Date(99_000).toISOString() });
    expect(retry({ ...job, delayEmitted: true }, ctx, '451', false, 9_000, 99_000).events).toEqual([]);
  });
});

describe('simulatorScenario', () => {
  it('recognises the simulator domains and labels', () => {
    expect(simulatorScenario('success@simulator.mailbeacon.local')).toBe('success');
    expect(simulatorScenario('Bounce+x@Simulator.Mailbeacon.Local')).toBe('bounce');
    expect(simulatorScenario('delay@simulator.postbox.yandexcloud.net')).toBe('delay');
    expect(simulatorScenario('suppressionlist@simulator.amazonses.com')).toBe('suppressed');
    expect(simulatorScenario('bounce@example.com')).toBeNull();
  });
});

describe('defaultBackoff', () => {
  it('doubles from about a minute and caps at about an hour', () => {
    expect(defaultBackoff(1)).toBeGreaterThanOrEqual(48_000);
    expect(defaultBackoff(1)).toBeLessThanOrEqual(72_000);
    expect(defaultBackoff(3)).toBeGreaterThanOrEqual(192_000);
    expect(defaultBackoff(30)).toBeLessThanOrEqual(72 * 60_000);
  });
});
