// Shared pieces of the store contract suite: the sample message, the Send event and the
// context each part (contract-*.ts) receives. Adapter tests may use newMessage too.
import type { Destination, DestinationSnapshot, MatchingEventType, NewEvent, NewMessage, Store } from './port.js';

export type MakeStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

export const T0 = 1_700_000_000_000;

export function newMessage(id: string, over: Partial<NewMessage> = {}): NewMessage {
  return {
    id,
    acceptedAt: T0,
    identity: 'example.com',
    mailFrom: 'sender@example.com',
    configSetName: 'set1',
    recipients: ['rcpt@example.net'],
    tracked: true,
    injectOutcome: 'injected',
    mail: { messageId: id, timestamp: new Date(T0).toISOString(), identityId: 'example.com', tags: { k: ['v'] } },
    raw: Buffer.from(`Subject: ${id}\r\n\r\n<html>hi</html>\r\n`),
    deliveryOptions: { TlsPolicy: 'OPTIONAL' },
    ...over,
  };
}

export const send = (at = T0): NewEvent => ({ kind: 'Send', at, detail: {} });

/** What each contract part sees: the current test's store (fresh per test) and helpers. */
export interface ContractContext {
  store: Store;
  /** Creates a set with webhook destinations of the given types; returns them by name. */
  makeSet<K extends string>(name: string, dests: Record<K, MatchingEventType[]>): Promise<Record<K, Destination>>;
  /** The accept-time snapshot of the given destinations. */
  snap(...ds: Destination[]): DestinationSnapshot[];
}
