// Shared by both adapters. How a message's status (port.ts MessageStatus) follows from the states of its
// recipients' outbound rows. Pure; the adapter recomputes it in the same transaction
// that applies delivery outcomes, so the status never disagrees with the queue.
import type { MessageStatus } from './port.js';

export interface RecipientState { state: string; first_failure_at: number | null; attempts: number }

/** Status of a message from the states of its recipients (see port.ts MessageStatus). */
export function messageStatus(rows: RecipientState[]): MessageStatus {
  const pending = rows.filter((r) => r.state === 'pending');
  if (pending.length > 0) {
    if (pending.some((r) => r.first_failure_at !== null)) return 'delayed';
    return rows.length > pending.length || pending.some((r) => r.attempts > 0) ? 'sending' : 'queued';
  }
  if (rows.every((r) => r.state === 'delivered')) return 'delivered';
  if (rows.every((r) => r.state === 'bounced' || r.state === 'suppressed')) return 'bounced';
  if (rows.every((r) => r.state === 'captured')) return 'captured';
  return 'partial';
}

