// Table test of the message status rule (port.ts MessageStatus) over recipient states.
import { describe, expect, it } from 'vitest';
import { messageStatus, type RecipientState } from './message-status.js';

const r = (state: string, attempts = 1, first_failure_at: number | null = null): RecipientState => ({ state, attempts, first_failure_at });

describe('messageStatus', () => {
  it.each([
    [[r('pending', 0)], 'queued'],
    [[r('pending', 0), r('pending', 0)], 'queued'],
    [[r('delivered'), r('pending', 0)], 'sending'],
    [[r('pending', 1, 5)], 'delayed'],
    [[r('delivered'), r('pending', 2, 5)], 'delayed'],
    [[r('delivered'), r('delivered')], 'delivered'],
    [[r('bounced'), r('suppressed')], 'bounced'],
    [[r('captured')], 'captured'],
    [[r('delivered'), r('bounced')], 'partial'],
    [[r('captured'), r('delivered')], 'partial'],
  ] as [RecipientState[], string][])('%j -> %s', (rows, want) => {
    expect(messageStatus(rows)).toBe(want);
  });
});
