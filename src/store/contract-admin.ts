// Store contract, part 1: access keys, identities, configuration sets and destinations
// (uniqueness, paging, soft delete). Registered by runStoreContract (contract.ts).
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { StoreConflict } from './port.js';
import { T0, newMessage, send, type ContractContext } from './contract-fixtures.js';

export function adminContract(ctx: ContractContext): void {
  describe('init', () => {
    it('is idempotent', async () => {
      await ctx.store.init();
      await ctx.store.createIdentity({ name: 'a.com', createdAt: T0, configurationSetName: null });
      await ctx.store.init();
      expect(await ctx.store.getIdentity('a.com')).toBeDefined();
    });
  });

  describe('access keys', () => {
    it('creates, gets, lists, revokes; duplicates conflict', async () => {
      const key = { id: 'AKIDEXAMPLE', secret: 's3cret', name: 'app', createdAt: T0, revokedAt: null };
      await ctx.store.createAccessKey(key);
      await ctx.store.createAccessKey({ ...key, id: 'AKIDOTHER', createdAt: T0 + 1 });
      expect(await ctx.store.getAccessKey('AKIDEXAMPLE')).toEqual(key);
      expect(await ctx.store.getAccessKey('nope')).toBeUndefined();
      await expect(ctx.store.createAccessKey(key)).rejects.toBeInstanceOf(StoreConflict);
      expect((await ctx.store.listAccessKeys()).map((k) => k.id)).toEqual(['AKIDEXAMPLE', 'AKIDOTHER']);
      expect(await ctx.store.revokeAccessKey('AKIDEXAMPLE', T0 + 5)).toBe(true);
      expect((await ctx.store.getAccessKey('AKIDEXAMPLE'))!.revokedAt).toBe(T0 + 5);
      expect(await ctx.store.revokeAccessKey('nope', T0)).toBe(false);
    });
  });

  describe('identities', () => {
    it('creates, conflicts, binds a set, deletes', async () => {
      await ctx.store.createIdentity({ name: 'example.com', createdAt: T0, configurationSetName: null });
      await expect(ctx.store.createIdentity({ name: 'example.com', createdAt: T0, configurationSetName: null }))
        .rejects.toBeInstanceOf(StoreConflict);
      expect(await ctx.store.setIdentityConfigSet('example.com', 'set1')).toBe(true);
      expect(await ctx.store.getIdentity('example.com')).toEqual({ name: 'example.com', createdAt: T0, configurationSetName: 'set1' });
      expect(await ctx.store.setIdentityConfigSet('example.com', null)).toBe(true);
      expect((await ctx.store.getIdentity('example.com'))!.configurationSetName).toBeNull();
      expect(await ctx.store.setIdentityConfigSet('missing.com', 'set1')).toBe(false);
      expect(await ctx.store.deleteIdentity('example.com')).toBe(true);
      expect(await ctx.store.deleteIdentity('example.com')).toBe(false);
      expect(await ctx.store.getIdentity('example.com')).toBeUndefined();
    });

    it('pages by name with an opaque token', async () => {
      for (const n of ['e.com', 'a.com', 'c.com', 'b.com', 'd.com']) {
        await ctx.store.createIdentity({ name: n, createdAt: T0, configurationSetName: null });
      }
      const p1 = await ctx.store.listIdentities(2);
      expect(p1.items.map((i) => i.name)).toEqual(['a.com', 'b.com']);
      expect(p1.nextToken).toEqual(expect.any(String));
      const p2 = await ctx.store.listIdentities(2, p1.nextToken!);
      expect(p2.items.map((i) => i.name)).toEqual(['c.com', 'd.com']);
      const p3 = await ctx.store.listIdentities(2, p2.nextToken!);
      expect(p3.items.map((i) => i.name)).toEqual(['e.com']);
      expect(p3.nextToken).toBeNull();
      const exact = await ctx.store.listIdentities(5);
      expect(exact.items).toHaveLength(5);
      expect(exact.nextToken).toBeNull();
    });

    it('rejects a forged page token with a client error', async () => {
      await expect(ctx.store.listIdentities(2, 'not-a-token')).rejects.toBeInstanceOf(GatewayError);
      await expect(ctx.store.listConfigSets(2, 'W1sxXV0')).rejects.toMatchObject({ kind: 'BadRequest' });
      await expect(ctx.store.listMessages(2, Buffer.from('["x"]').toString('base64url'))).rejects.toMatchObject({ kind: 'BadRequest' });
    });
  });

  describe('configuration sets and destinations', () => {
    it('creates, conflicts, updates options, pages, deletes', async () => {
      await ctx.store.createConfigSet({ name: 'b', createdAt: T0, options: { SendingOptions: { SendingEnabled: true } } });
      await ctx.store.createConfigSet({ name: 'a', createdAt: T0, options: {} });
      await ctx.store.createConfigSet({ name: 'c', createdAt: T0, options: {} });
      await expect(ctx.store.createConfigSet({ name: 'a', createdAt: T0, options: {} })).rejects.toBeInstanceOf(StoreConflict);
      expect((await ctx.store.getConfigSet('b'))!.options).toEqual({ SendingOptions: { SendingEnabled: true } });
      const opts = { DeliveryOptions: { TlsPolicy: 'REQUIRE' as const }, Tags: [{ Key: 'k', Value: 'v' }] };
      expect(await ctx.store.updateConfigSetOptions('b', opts)).toBe(true);
      expect(await ctx.store.updateConfigSetOptions('zz', opts)).toBe(false);
      expect((await ctx.store.getConfigSet('b'))!.options).toEqual(opts);
      const p1 = await ctx.store.listConfigSets(2);
      expect(p1.items.map((s) => s.name)).toEqual(['a', 'b']);
      const p2 = await ctx.store.listConfigSets(2, p1.nextToken!);
      expect(p2.items.map((s) => s.name)).toEqual(['c']);
      expect(p2.nextToken).toBeNull();
      expect(await ctx.store.deleteConfigSet('a')).toBe(true);
      expect(await ctx.store.deleteConfigSet('a')).toBe(false);
      expect(await ctx.store.getConfigSet('a')).toBeUndefined();
    });

    it('keeps destination names unique per set, ids stable across update', async () => {
      const { w, k } = await ctx.makeSet('set1', { w: ['OPEN', 'SEND'], k: ['DELIVERY'] });
      await ctx.store.createConfigSet({ name: 'set2', createdAt: T0, options: {} });
      expect(w!.id).not.toBe(k!.id);
      expect(w).toMatchObject({ configSetName: 'set1', name: 'w', enabled: true, matchingEventTypes: ['OPEN', 'SEND'], kind: 'webhook', disabledReason: null });
      await expect(ctx.store.createDestination({ ...w!, id: undefined } as never)).rejects.toBeInstanceOf(StoreConflict);
      const other = await ctx.store.createDestination({ ...k!, configSetName: 'set2' });
      expect(other.configSetName).toBe('set2');
      expect((await ctx.store.listDestinations('set1')).map((d) => d.name)).toEqual(['k', 'w']);
      const upd = await ctx.store.updateDestination('set1', 'w', { enabled: false, matchingEventTypes: ['OPEN'], kind: 'kinesis', settings: { DeliveryStreamArn: 'arn:x' } });
      expect(upd).toMatchObject({ id: w!.id, enabled: false, matchingEventTypes: ['OPEN'], kind: 'kinesis', settings: { DeliveryStreamArn: 'arn:x' } });
      expect(await ctx.store.getDestinationById(w!.id)).toEqual(upd);
      expect(await ctx.store.updateDestination('set1', 'missing', { enabled: true, matchingEventTypes: [], kind: 'webhook', settings: {} })).toBeUndefined();
    });

    it('gateway disable records a reason; listAllDestinations lists only enabled live ones', async () => {
      const { a, b, c } = await ctx.makeSet('set1', { a: ['OPEN'], b: ['OPEN'], c: ['OPEN'] });
      await ctx.store.disableDestination(b!.id, 'webhook answered 410');
      expect(await ctx.store.getDestinationById(b!.id)).toMatchObject({ enabled: false, disabledReason: 'webhook answered 410' });
      await ctx.store.deleteDestination('set1', 'c');
      expect((await ctx.store.listAllDestinations()).map((d) => d.id)).toEqual([a!.id]);
      // a user update clears the gateway's reason
      const re = await ctx.store.updateDestination('set1', 'b', { enabled: true, matchingEventTypes: ['OPEN'], kind: 'webhook', settings: {} });
      expect(re).toMatchObject({ enabled: true, disabledReason: null });
      expect(c).toBeDefined();
    });

    it('soft-deletes a destination: gone from list/get, name reusable, pending notifications dead', async () => {
      const { w, keep } = await ctx.makeSet('set1', { w: ['SEND'], keep: ['SEND'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(w!, keep!), [send()]);
      expect(await ctx.store.deleteDestination('set1', 'w')).toBe(true);
      expect(await ctx.store.deleteDestination('set1', 'w')).toBe(false);
      expect(await ctx.store.getDestinationById(w!.id)).toBeUndefined();
      expect((await ctx.store.listDestinations('set1')).map((d) => d.name)).toEqual(['keep']);
      const hist = await ctx.store.listNotifications({ destinationId: w!.id }, 10);
      expect(hist).toHaveLength(1);
      expect(hist[0]).toMatchObject({ state: 'dead', lastStatus: 'destination deleted', eventId: 'm1:1' });
      expect(await ctx.store.listNotifications({ destinationId: keep!.id, state: 'pending' }, 10)).toHaveLength(1);
      const again = await ctx.store.createDestination({ ...w!, id: undefined } as never);
      expect(again.id).not.toBe(w!.id);
      // later events of the message do not go to the deleted destination
      await ctx.store.appendEvents('m1', [{ kind: 'Send', at: T0 + 1, detail: {} }]);
      expect(await ctx.store.listNotifications({ destinationId: w!.id }, 10)).toHaveLength(1);
      expect(await ctx.store.replayNotifications(w!.id, { states: ['dead'] }, T0 + 2)).toBe(0);
    });

    it('deleting a set soft-deletes its destinations and kills their pending notifications', async () => {
      const { w } = await ctx.makeSet('set1', { w: ['SEND'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(w!), [send()]);
      expect(await ctx.store.deleteConfigSet('set1')).toBe(true);
      expect(await ctx.store.listDestinations('set1')).toEqual([]);
      expect(await ctx.store.getDestinationById(w!.id)).toBeUndefined();
      expect((await ctx.store.listNotifications({ messageId: 'm1' }, 10)).map((n) => n.state)).toEqual(['dead']);
      expect(await ctx.store.destinationsWithPending(T0 + 10)).toEqual([]);
      // a set of the same name starts empty
      await ctx.store.createConfigSet({ name: 'set1', createdAt: T0, options: {} });
      expect(await ctx.store.listDestinations('set1')).toEqual([]);
    });
  });

}
