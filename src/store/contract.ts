// The store contract suite: every adapter (sqlite/, postgres/) runs it through the port
// only (port.ts), so all keep exactly the same semantics. Call runStoreContract(label,
// makeStore) from an adapter's *.test.ts; each test gets a fresh store. The cases live in
// contract-admin.ts, contract-messages.ts and contract-notifications.ts.
import { afterEach, beforeEach, describe } from 'vitest';
import { adminContract } from './contract-admin.js';
import { T0, type ContractContext, type MakeStore } from './contract-fixtures.js';
import { messagesContract } from './contract-messages.js';
import { notificationsContract } from './contract-notifications.js';
import type { Destination, MatchingEventType, Store } from './port.js';

export { newMessage, type MakeStore } from './contract-fixtures.js';

export function runStoreContract(label: string, makeStore: MakeStore): void {
  describe(`Store contract: ${label}`, () => {
    const ctx = {
      store: undefined as unknown as Store,
      makeSet,
      snap: (...ds: Destination[]) => ds.map((d) => ({ destinationId: d.id, eventTypes: d.matchingEventTypes })),
    } satisfies ContractContext;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      const made = await makeStore();
      ctx.store = made.store;
      cleanup = made.cleanup;
      await ctx.store.init();
    });
    afterEach(async () => {
      await cleanup();
    });

    /** A set with destinations; returns them by name. */
    async function makeSet<K extends string>(name: string, dests: Record<K, MatchingEventType[]>): Promise<Record<K, Destination>> {
      await ctx.store.createConfigSet({ name, createdAt: T0, options: {} });
      const out = {} as Record<K, Destination>;
      for (const [dn, types] of Object.entries(dests) as [K, MatchingEventType[]][]) {
        out[dn] = await ctx.store.createDestination({
          configSetName: name, name: dn, enabled: true, matchingEventTypes: types, kind: 'webhook',
          settings: { Url: `https://hooks.example/${dn}`, SigningSecret: 'whsec_x' }, disabledReason: null, createdAt: T0,
        });
      }
      return out;
    }

    adminContract(ctx);
    messagesContract(ctx);
    notificationsContract(ctx);
  });
}
