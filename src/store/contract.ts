// The store contract suite: every adapter (sqlite/, later postgres/) runs it through the
// port only (port.ts), so both keep exactly the same semantics. Call
// runStoreContract(label, makeStore) from an adapter's *.test.ts; each test gets a fresh store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import {
  StoreConflict, type Destination, type MatchingEventType, type NewEvent, type NewMessage, type Store,
} from './port.js';

export type MakeStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

const T0 = 1_700_000_000_000;

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

const send = (at = T0): NewEvent => ({ kind: 'Send', at, detail: {} });

export function runStoreContract(label: string, makeStore: MakeStore): void {
  describe(`Store contract: ${label}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.init();
    });
    afterEach(async () => {
      await cleanup();
    });

    /** A set with destinations; returns them by name. */
    async function makeSet<K extends string>(name: string, dests: Record<K, MatchingEventType[]>): Promise<Record<K, Destination>> {
      await store.createConfigSet({ name, createdAt: T0, options: {} });
      const out = {} as Record<K, Destination>;
      for (const [dn, types] of Object.entries(dests) as [K, MatchingEventType[]][]) {
        out[dn] = await store.createDestination({
          configSetName: name, name: dn, enabled: true, matchingEventTypes: types, kind: 'webhook',
          settings: { Url: `https://hooks.example/${dn}`, SigningSecret: 'whsec_x' }, disabledReason: null, createdAt: T0,
        });
      }
      return out;
    }
    const snap = (...ds: Destination[]) => ds.map((d) => ({ destinationId: d.id, eventTypes: d.matchingEventTypes }));

    describe('init', () => {
      it('is idempotent', async () => {
        await store.init();
        await store.createIdentity({ name: 'a.com', createdAt: T0, configurationSetName: null });
        await store.init();
        expect(await store.getIdentity('a.com')).toBeDefined();
      });
    });

    describe('access keys', () => {
      it('creates, gets, lists, revokes; duplicates conflict', async () => {
        const key = { id: 'AKIDEXAMPLE', secret: 's3cret', name: 'app', createdAt: T0, revokedAt: null };
        await store.createAccessKey(key);
        await store.createAccessKey({ ...key, id: 'AKIDOTHER', createdAt: T0 + 1 });
        expect(await store.getAccessKey('AKIDEXAMPLE')).toEqual(key);
        expect(await store.getAccessKey('nope')).toBeUndefined();
        await expect(store.createAccessKey(key)).rejects.toBeInstanceOf(StoreConflict);
        expect((await store.listAccessKeys()).map((k) => k.id)).toEqual(['AKIDEXAMPLE', 'AKIDOTHER']);
        expect(await store.revokeAccessKey('AKIDEXAMPLE', T0 + 5)).toBe(true);
        expect((await store.getAccessKey('AKIDEXAMPLE'))!.revokedAt).toBe(T0 + 5);
        expect(await store.revokeAccessKey('nope', T0)).toBe(false);
      });
    });

    describe('identities', () => {
      it('creates, conflicts, binds a set, deletes', async () => {
        await store.createIdentity({ name: 'example.com', createdAt: T0, configurationSetName: null });
        await expect(store.createIdentity({ name: 'example.com', createdAt: T0, configurationSetName: null }))
          .rejects.toBeInstanceOf(StoreConflict);
        expect(await store.setIdentityConfigSet('example.com', 'set1')).toBe(true);
        expect(await store.getIdentity('example.com')).toEqual({ name: 'example.com', createdAt: T0, configurationSetName: 'set1' });
        expect(await store.setIdentityConfigSet('example.com', null)).toBe(true);
        expect((await store.getIdentity('example.com'))!.configurationSetName).toBeNull();
        expect(await store.setIdentityConfigSet('missing.com', 'set1')).toBe(false);
        expect(await store.deleteIdentity('example.com')).toBe(true);
        expect(await store.deleteIdentity('example.com')).toBe(false);
        expect(await store.getIdentity('example.com')).toBeUndefined();
      });

      it('pages by name with an opaque token', async () => {
        for (const n of ['e.com', 'a.com', 'c.com', 'b.com', 'd.com']) {
          await store.createIdentity({ name: n, createdAt: T0, configurationSetName: null });
        }
        const p1 = await store.listIdentities(2);
        expect(p1.items.map((i) => i.name)).toEqual(['a.com', 'b.com']);
        expect(p1.nextToken).toEqual(expect.any(String));
        const p2 = await store.listIdentities(2, p1.nextToken!);
        expect(p2.items.map((i) => i.name)).toEqual(['c.com', 'd.com']);
        const p3 = await store.listIdentities(2, p2.nextToken!);
        expect(p3.items.map((i) => i.name)).toEqual(['e.com']);
        expect(p3.nextToken).toBeNull();
        const exact = await store.listIdentities(5);
        expect(exact.items).toHaveLength(5);
        expect(exact.nextToken).toBeNull();
      });

      it('rejects a forged page token with a client error', async () => {
        await expect(store.listIdentities(2, 'not-a-token')).rejects.toBeInstanceOf(GatewayError);
        await expect(store.listConfigSets(2, 'W1sxXV0')).rejects.toMatchObject({ kind: 'BadRequest' });
        await expect(store.listMessages(2, Buffer.from('["x"]').toString('base64url'))).rejects.toMatchObject({ kind: 'BadRequest' });
      });
    });

    describe('configuration sets and destinations', () => {
      it('creates, conflicts, updates options, pages, deletes', async () => {
        await store.createConfigSet({ name: 'b', createdAt: T0, options: { SendingOptions: { SendingEnabled: true } } });
        await store.createConfigSet({ name: 'a', createdAt: T0, options: {} });
        await store.createConfigSet({ name: 'c', createdAt: T0, options: {} });
        await expect(store.createConfigSet({ name: 'a', createdAt: T0, options: {} })).rejects.toBeInstanceOf(StoreConflict);
        expect((await store.getConfigSet('b'))!.options).toEqual({ SendingOptions: { SendingEnabled: true } });
        const opts = { DeliveryOptions: { TlsPolicy: 'REQUIRE' as const }, Tags: [{ Key: 'k', Value: 'v' }] };
        expect(await store.updateConfigSetOptions('b', opts)).toBe(true);
        expect(await store.updateConfigSetOptions('zz', opts)).toBe(false);
        expect((await store.getConfigSet('b'))!.options).toEqual(opts);
        const p1 = await store.listConfigSets(2);
        expect(p1.items.map((s) => s.name)).toEqual(['a', 'b']);
        const p2 = await store.listConfigSets(2, p1.nextToken!);
        expect(p2.items.map((s) => s.name)).toEqual(['c']);
        expect(p2.nextToken).toBeNull();
        expect(await store.deleteConfigSet('a')).toBe(true);
        expect(await store.deleteConfigSet('a')).toBe(false);
        expect(await store.getConfigSet('a')).toBeUndefined();
      });

      it('keeps destination names unique per set, ids stable across update', async () => {
        const { w, k } = await makeSet('set1', { w: ['OPEN', 'SEND'], k: ['DELIVERY'] });
        await store.createConfigSet({ name: 'set2', createdAt: T0, options: {} });
        expect(w!.id).not.toBe(k!.id);
        expect(w).toMatchObject({ configSetName: 'set1', name: 'w', enabled: true, matchingEventTypes: ['OPEN', 'SEND'], kind: 'webhook', disabledReason: null });
        await expect(store.createDestination({ ...w!, id: undefined } as never)).rejects.toBeInstanceOf(StoreConflict);
        const other = await store.createDestination({ ...k!, configSetName: 'set2' });
        expect(other.configSetName).toBe('set2');
        expect((await store.listDestinations('set1')).map((d) => d.name)).toEqual(['k', 'w']);
        const upd = await store.updateDestination('set1', 'w', { enabled: false, matchingEventTypes: ['OPEN'], kind: 'kinesis', settings: { DeliveryStreamArn: 'arn:x' } });
        expect(upd).toMatchObject({ id: w!.id, enabled: false, matchingEventTypes: ['OPEN'], kind: 'kinesis', settings: { DeliveryStreamArn: 'arn:x' } });
        expect(await store.getDestinationById(w!.id)).toEqual(upd);
        expect(await store.updateDestination('set1', 'missing', { enabled: true, matchingEventTypes: [], kind: 'webhook', settings: {} })).toBeUndefined();
      });

      it('gateway disable records a reason; listAllDestinations lists only enabled live ones', async () => {
        const { a, b, c } = await makeSet('set1', { a: ['OPEN'], b: ['OPEN'], c: ['OPEN'] });
        await store.disableDestination(b!.id, 'webhook answered 410');
        expect(await store.getDestinationById(b!.id)).toMatchObject({ enabled: false, disabledReason: 'webhook answered 410' });
        await store.deleteDestination('set1', 'c');
        expect((await store.listAllDestinations()).map((d) => d.id)).toEqual([a!.id]);
        // a user update clears the gateway's reason
        const re = await store.updateDestination('set1', 'b', { enabled: true, matchingEventTypes: ['OPEN'], kind: 'webhook', settings: {} });
        expect(re).toMatchObject({ enabled: true, disabledReason: null });
        expect(c).toBeDefined();
      });

      it('soft-deletes a destination: gone from list/get, name reusable, pending notifications dead', async () => {
        const { w, keep } = await makeSet('set1', { w: ['SEND'], keep: ['SEND'] });
        await store.acceptMessage(newMessage('m1'), snap(w!, keep!), [send()]);
        expect(await store.deleteDestination('set1', 'w')).toBe(true);
        expect(await store.deleteDestination('set1', 'w')).toBe(false);
        expect(await store.getDestinationById(w!.id)).toBeUndefined();
        expect((await store.listDestinations('set1')).map((d) => d.name)).toEqual(['keep']);
        const hist = await store.listNotifications({ destinationId: w!.id }, 10);
        expect(hist).toHaveLength(1);
        expect(hist[0]).toMatchObject({ state: 'dead', lastStatus: 'destination deleted', eventId: 'm1:1' });
        expect(await store.listNotifications({ destinationId: keep!.id, state: 'pending' }, 10)).toHaveLength(1);
        const again = await store.createDestination({ ...w!, id: undefined } as never);
        expect(again.id).not.toBe(w!.id);
        // later events of the message do not go to the deleted destination
        await store.appendEvents('m1', [{ kind: 'Send', at: T0 + 1, detail: {} }]);
        expect(await store.listNotifications({ destinationId: w!.id }, 10)).toHaveLength(1);
        expect(await store.replayNotifications(w!.id, { states: ['dead'] }, T0 + 2)).toBe(0);
      });

      it('deleting a set soft-deletes its destinations and kills their pending notifications', async () => {
        const { w } = await makeSet('set1', { w: ['SEND'] });
        await store.acceptMessage(newMessage('m1'), snap(w!), [send()]);
        expect(await store.deleteConfigSet('set1')).toBe(true);
        expect(await store.listDestinations('set1')).toEqual([]);
        expect(await store.getDestinationById(w!.id)).toBeUndefined();
        expect((await store.listNotifications({ messageId: 'm1' }, 10)).map((n) => n.state)).toEqual(['dead']);
        expect(await store.destinationsWithPending(T0 + 10)).toEqual([]);
        // a set of the same name starts empty
        await store.createConfigSet({ name: 'set1', createdAt: T0, options: {} });
        expect(await store.listDestinations('set1')).toEqual([]);
      });
    });

    describe('acceptMessage and messages', () => {
      it('stores message, raw bytes, outbound rows, events and notification rows in one go', async () => {
        const { s, o, d } = await makeSet('set1', { s: ['SEND', 'OPEN'], o: ['OPEN'], d: ['SEND', 'DELIVERY'] });
        const raw = Buffer.from([0x53, 0x3a, 0x20, 0xff, 0x00, 0x0d, 0x0a, 0x80]);
        const msg = newMessage('m1', { recipients: ['a@x.net', 'b@x.net'], raw });
        const events = await store.acceptMessage(msg, snap(s!, o!, d!), [send(), { kind: 'Reject', at: T0, detail: { reason: 'x' } }]);
        expect(events).toEqual([
          { kind: 'Send', at: T0, detail: {}, messageId: 'm1', seq: 1, eventId: 'm1:1' },
          { kind: 'Reject', at: T0, detail: { reason: 'x' }, messageId: 'm1', seq: 2, eventId: 'm1:2' },
        ]);
        const { raw: _raw, ...rest } = msg;
        expect(await store.getMessage('m1')).toEqual({ ...rest, status: 'queued', size: raw.length, openCount: 0 });
        expect((await store.getMessageRaw('m1'))!.equals(raw)).toBe(true);
        expect(await store.getMessageRaw('nope')).toBeUndefined();
        expect(await store.getMessage('nope')).toBeUndefined();
        expect(await store.listMessageEvents('m1')).toEqual(events);
        expect(await store.listMessageOutbound('m1')).toEqual([
          { recipient: 'a@x.net', state: 'pending', attempts: 0, lastError: null, nextAttemptAt: T0 },
          { recipient: 'b@x.net', state: 'pending', attempts: 0, lastError: null, nextAttemptAt: T0 },
        ]);
        // Send goes to s and d (SEND), not o; Reject matches nobody.
        const notes = await store.listNotifications({ messageId: 'm1' }, 10);
        expect(notes.map((n) => [n.destinationId, n.eventId, n.kind, n.state]).sort()).toEqual(
          [[s!.id, 'm1:1', 'Send', 'pending'], [d!.id, 'm1:1', 'Send', 'pending']].sort());
        expect(notes[0]).toMatchObject({ attempts: 0, nextAttemptAt: T0, createdAt: T0, deliveredAt: null, lastStatus: null });
      });

      it('rejects a duplicate MessageId without touching the first', async () => {
        await store.acceptMessage(newMessage('m1'), [], [send()]);
        await expect(store.acceptMessage(newMessage('m1', { recipients: ['x@y.z', 'q@y.z'] }), [], [send()]))
          .rejects.toBeInstanceOf(StoreConflict);
        expect(await store.listMessageOutbound('m1')).toHaveLength(1);
        expect(await store.listMessageEvents('m1')).toHaveLength(1);
      });

      it('writes nothing when the transaction fails half-way (unknown snapshot destination)', async () => {
        await expect(store.acceptMessage(newMessage('m1'), [{ destinationId: 987654, eventTypes: ['SEND'] }], [send()]))
          .rejects.toThrow();
        expect(await store.getMessage('m1')).toBeUndefined();
        expect(await store.getMessageRaw('m1')).toBeUndefined();
        expect(await store.listMessageOutbound('m1')).toEqual([]);
        expect(await store.listMessageEvents('m1')).toEqual([]);
      });

      it('lists messages newest first with stable paging', async () => {
        for (let i = 0; i < 5; i++) await store.acceptMessage(newMessage(`m${i}`, { acceptedAt: T0 + (i < 3 ? 0 : i) }), [], []);
        const seen: string[] = [];
        let token: string | undefined;
        for (let page = 0; page < 5; page++) {
          const p = await store.listMessages(2, token);
          seen.push(...p.items.map((m) => m.id));
          if (!p.nextToken) break;
          token = p.nextToken;
        }
        expect(seen).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
        const first = await store.listMessages(10);
        expect(first.nextToken).toBeNull();
        expect(first.items[0]).not.toHaveProperty('raw');
      });
    });

    describe('outbound queue', () => {
      it('claims due rows oldest first, leases them, and hands them back after the lease', async () => {
        await store.acceptMessage(newMessage('late', { acceptedAt: T0 + 100 }), [], []);
        await store.acceptMessage(newMessage('m1', { recipients: ['a@x', 'b@x'], deliveryOptions: { TlsPolicy: 'REQUIRE' } }), [], []);
        expect(await store.claimOutbound(T0 - 1, 10, 1000)).toEqual([]);
        const jobs = await store.claimOutbound(T0 + 100, 2, 1000);
        expect(jobs.map((j) => [j.messageId, j.recipient])).toEqual([['m1', 'a@x'], ['m1', 'b@x']]);
        expect(jobs[0]).toMatchObject({ attempts: 0, firstFailureAt: null, delayEmitted: false, acceptedAt: T0, mailFrom: 'sender@example.com', deliveryOptions: { TlsPolicy: 'REQUIRE' } });
        expect((await store.claimOutbound(T0 + 100, 10, 1000)).map((j) => j.messageId)).toEqual(['late']);
        expect(await store.claimOutbound(T0 + 500, 10, 1000)).toEqual([]);
        // lease over: a crashed worker's rows come back
        expect((await store.claimOutbound(T0 + 1200, 10, 1000)).map((j) => j.recipient).sort()).toEqual(['a@x', 'b@x', 'rcpt@example.net']);
      });

      it('applies outcomes: events, notification rows and message status in one go', async () => {
        const { d } = await makeSet('set1', { d: ['DELIVERY', 'BOUNCE', 'DELIVERY_DELAY'] });
        await store.acceptMessage(newMessage('ok'), snap(d!), [send()]);
        await store.acceptMessage(newMessage('bad'), snap(d!), [send()]);
        await store.acceptMessage(newMessage('mix', { recipients: ['a@x', 'b@x'] }), snap(d!), [send()]);
        await store.acceptMessage(newMessage('cap'), snap(d!), [send()]);
        const jobs = await store.claimOutbound(T0, 10, 60_000);
        const id = (m: string, r = 'rcpt@example.net') => jobs.find((j) => j.messageId === m && j.recipient === r)!.id;
        expect(await store.getMessage('ok')).toMatchObject({ status: 'sending' });
        await store.completeOutbound([
          { outboundId: id('ok'), state: 'delivered', lastError: null, events: [{ kind: 'Delivery', at: T0 + 10, detail: { recipients: ['rcpt@example.net'] } }] },
          { outboundId: id('bad'), state: 'bounced', lastError: '550 no such user', events: [{ kind: 'Bounce', at: T0 + 10, detail: { bounceType: 'Permanent' } }] },
          { outboundId: id('mix', 'a@x'), state: 'delivered', events: [] },
          { outboundId: id('mix', 'b@x'), state: 'retry', nextAttemptAt: T0 + 5000, lastError: '451 later', delayEmitted: true, events: [{ kind: 'DeliveryDelay', at: T0 + 10, detail: {} }] },
          { outboundId: id('cap'), state: 'captured', events: [] },
        ]);
        expect((await store.getMessage('ok'))!.status).toBe('delivered');
        expect((await store.getMessage('bad'))!.status).toBe('bounced');
        expect((await store.getMessage('mix'))!.status).toBe('delayed');
        expect((await store.getMessage('cap'))!.status).toBe('captured');
        expect((await store.listMessageEvents('ok')).map((e) => [e.eventId, e.kind])).toEqual([['ok:1', 'Send'], ['ok:2', 'Delivery']]);
        expect(await store.listMessageOutbound('bad')).toEqual([{ recipient: 'rcpt@example.net', state: 'bounced', attempts: 1, lastError: '550 no such user', nextAttemptAt: T0 }]);
        expect(await store.listMessageOutbound('mix')).toEqual([
          { recipient: 'a@x', state: 'delivered', attempts: 1, lastError: null, nextAttemptAt: T0 },
          { recipient: 'b@x', state: 'pending', attempts: 1, lastError: '451 later', nextAttemptAt: T0 + 5000 },
        ]);
        const kinds = (await store.listNotifications({ destinationId: d!.id }, 50)).map((n) => `${n.messageId}:${n.kind}`).sort();
        expect(kinds).toEqual(['bad:Bounce', 'mix:DeliveryDelay', 'ok:Delivery']);
        // retry: not due before nextAttemptAt, and it carries its history
        expect(await store.claimOutbound(T0 + 4999, 10, 1000)).toEqual([]);
        const [again] = await store.claimOutbound(T0 + 5000, 10, 1000);
        expect(again).toMatchObject({ messageId: 'mix', recipient: 'b@x', attempts: 1, firstFailureAt: T0 + 10, delayEmitted: true });
        await store.completeOutbound([{ outboundId: again!.id, state: 'bounced', events: [] }]);
        expect((await store.getMessage('mix'))!.status).toBe('partial');
        // an outcome for a row already final is ignored (a second worker after lease expiry)
        await store.completeOutbound([{ outboundId: id('ok'), state: 'delivered', events: [{ kind: 'Delivery', at: T0 + 20, detail: {} }] }]);
        expect(await store.listMessageEvents('ok')).toHaveLength(2);
      });
    });

    describe('events and opens', () => {
      it('appendEvents continues the per-message seq and fans out', async () => {
        const { d } = await makeSet('set1', { d: ['DELIVERY'] });
        await store.acceptMessage(newMessage('m1'), snap(d!), [send()]);
        const evs = await store.appendEvents('m1', [{ kind: 'Delivery', at: T0 + 1, detail: { a: 1 } }, { kind: 'Delivery', at: T0 + 2, detail: { a: 2 } }]);
        expect(evs.map((e) => e.eventId)).toEqual(['m1:2', 'm1:3']);
        expect((await store.listNotifications({ destinationId: d!.id }, 10)).map((n) => n.eventId)).toEqual(['m1:2', 'm1:3']);
        await expect(store.appendEvents('nope', [send()])).rejects.toThrow();
        expect(await store.appendEvents('m1', [])).toEqual([]);
      });

      it('recordOpens: one Open event per open, one notification per OPEN destination, unknown ids null', async () => {
        const { o1, o2, s } = await makeSet('set1', { o1: ['OPEN'], o2: ['OPEN', 'SEND'], s: ['SEND'] });
        await store.acceptMessage(newMessage('m1'), snap(o1!, o2!, s!), [send()]);
        await store.acceptMessage(newMessage('m2'), snap(o1!), []);
        const opens = [0, 1, 2, 3, 4].map((i) => ({ messageId: 'm1', at: T0 + 1000 + i, ipAddress: `192.0.2.${i}`, userAgent: 'UA' }));
        const res = await store.recordOpens([...opens.slice(0, 2), { messageId: 'ghost', at: T0, ipAddress: '1.1.1.1', userAgent: 'x' },
          { messageId: 'm2', at: T0 + 7, ipAddress: '::1', userAgent: 'y' }, ...opens.slice(2)]);
        expect(res).toEqual([2, 3, null, 1, 4, 5, 6]);
        expect((await store.getMessage('m1'))!.openCount).toBe(5);
        expect((await store.getMessage('m2'))!.openCount).toBe(1);
        expect(await store.getMessage('ghost')).toBeUndefined();
        const evs = await store.listMessageEvents('m1');
        expect(evs.map((e) => e.kind)).toEqual(['Send', 'Open', 'Open', 'Open', 'Open', 'Open']);
        expect(evs[1]).toEqual({ messageId: 'm1', seq: 2, eventId: 'm1:2', kind: 'Open', at: T0 + 1000,
          detail: { ipAddress: '192.0.2.0', timestamp: new Date(T0 + 1000).toISOString(), userAgent: 'UA' } });
        const opensOf = async (id: number) => (await store.listNotifications({ destinationId: id, messageId: 'm1' }, 50)).filter((n) => n.kind === 'Open');
        expect(await opensOf(o1!.id)).toHaveLength(5);
        expect(await opensOf(o2!.id)).toHaveLength(5);
        expect(await opensOf(s!.id)).toHaveLength(0);
        expect(await store.recordOpens([])).toEqual([]);
      });

      it('numbers several opens of one message in one batch consecutively; a batch of only unknown ids writes nothing', async () => {
        const { o } = await makeSet('set1', { o: ['OPEN'] });
        await store.acceptMessage(newMessage('m1'), snap(o), [send()]);
        const open = (at: number) => ({ messageId: 'm1', at, ipAddress: '198.51.100.7', userAgent: 'Mail/1.0' });
        expect(await store.recordOpens([open(T0 + 1), open(T0 + 2), open(T0 + 3)])).toEqual([2, 3, 4]);
        const before = await store.counts();
        expect(await store.recordOpens([{ ...open(T0), messageId: 'x' }, { ...open(T0), messageId: 'y' }])).toEqual([null, null]);
        expect(await store.counts()).toEqual(before);
        const rows = await store.listNotifications({ messageId: 'm1', destinationId: o.id }, 10);
        expect(rows.map((n) => [n.eventId, n.createdAt, n.nextAttemptAt])).toEqual([
          ['m1:2', T0 + 1, T0 + 1], ['m1:3', T0 + 2, T0 + 2], ['m1:4', T0 + 3, T0 + 3]]);
      });

      it('concurrent recordOpens calls all land, with distinct seqs', async () => {
        const { o } = await makeSet('set1', { o: ['OPEN'] });
        await store.acceptMessage(newMessage('m1'), snap(o), []);
        const calls = Array.from({ length: 20 }, (_, i) =>
          store.recordOpens([{ messageId: 'm1', at: T0 + i, ipAddress: '::1', userAgent: 'u' }, { messageId: 'm1', at: T0 + i, ipAddress: '::1', userAgent: 'u' }]));
        const seqs = (await Promise.all(calls)).flat();
        expect(new Set(seqs).size).toBe(40);
        expect([...seqs].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect((await store.getMessage('m1'))!.openCount).toBe(40);
        expect(await store.listNotifications({ destinationId: o.id }, 100)).toHaveLength(40);
      });

      it('routes by the snapshot taken at accept, not by later edits of the set', async () => {
        const { o } = await makeSet('set1', { o: ['OPEN'] });
        await store.acceptMessage(newMessage('m1'), snap(o), [send()]);
        await store.updateDestination('set1', 'o', { enabled: true, matchingEventTypes: ['OPEN', 'SEND', 'DELIVERY'], kind: 'webhook', settings: {} });
        const late = await store.createDestination({ ...o, name: 'late', id: undefined } as never);
        await store.appendEvents('m1', [{ kind: 'Delivery', at: T0 + 1, detail: {} }]);
        await store.recordOpens([{ messageId: 'm1', at: T0 + 2, ipAddress: '::1', userAgent: 'u' }]);
        expect((await store.listNotifications({ destinationId: o.id }, 10)).map((n) => n.kind)).toEqual(['Open']);
        expect(await store.listNotifications({ destinationId: late.id }, 10)).toEqual([]);
      });

      it('stores large and binary raw messages byte for byte', async () => {
        const raw = Buffer.alloc(3 * 1024 * 1024);
        for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + 7) & 0xff;
        await store.acceptMessage(newMessage('big', { raw }), [], []);
        expect((await store.getMessageRaw('big'))!.equals(raw)).toBe(true);
        expect((await store.getMessage('big'))!.size).toBe(raw.length);
      });

      it('a disabled destination gets no new notification rows', async () => {
        const { o } = await makeSet('set1', { o: ['OPEN'] });
        await store.acceptMessage(newMessage('m1'), snap(o!), []);
        await store.disableDestination(o!.id, 'webhook answered 410');
        await store.recordOpens([{ messageId: 'm1', at: T0, ipAddress: '1.2.3.4', userAgent: 'u' }]);
        expect(await store.listNotifications({ destinationId: o!.id }, 10)).toEqual([]);
      });
    });

    describe('notifications', () => {
      async function setup() {
        const { a, b } = await makeSet('set1', { a: ['SEND', 'OPEN'], b: ['SEND', 'OPEN'] });
        await store.acceptMessage(newMessage('m1', { acceptedAt: T0 }), snap(a!, b!), [send(T0)]);
        await store.acceptMessage(newMessage('m2', { acceptedAt: T0 + 1 }), snap(a!, b!), [send(T0 + 1)]);
        await store.recordOpens([{ messageId: 'm1', at: T0 + 2, ipAddress: '1.1.1.1', userAgent: 'u' }]);
        return { a: a!, b: b! };
      }

      it('claims at most the head of each message, oldest first, with event and mail', async () => {
        const { a } = await setup();
        const jobs = await store.claimNotifications(a.id, T0 + 10, 10, 30_000);
        expect(jobs.map((j) => j.event.eventId)).toEqual(['m1:1', 'm2:1']);
        expect(jobs[0]).toMatchObject({ destinationId: a.id, attempts: 0, createdAt: T0,
          event: { kind: 'Send', messageId: 'm1', seq: 1, at: T0, detail: {} },
          mail: { messageId: 'm1', tags: { k: ['v'] } } });
        // leased: not handed out again, and m1:2 waits behind its leased head
        expect(await store.claimNotifications(a.id, T0 + 10, 10, 30_000)).toEqual([]);
        await store.markNotificationDelivered(jobs[0]!.id, T0 + 11, '200');
        const next = await store.claimNotifications(a.id, T0 + 12, 10, 30_000);
        expect(next.map((j) => j.event.eventId)).toEqual(['m1:2']);
        expect(next[0]!.event.detail).toMatchObject({ ipAddress: '1.1.1.1' });
      });

      it('respects limit and due time, and comes back after the lease', async () => {
        const { a } = await setup();
        expect(await store.claimNotifications(a.id, T0 - 1, 10, 1000)).toEqual([]);
        expect(await store.claimNotifications(a.id, T0, 10, 1000)).toHaveLength(1); // only m1's Send is due at T0
        const one = await store.claimNotifications(a.id, T0 + 5, 1, 1000);
        expect(one.map((j) => j.event.eventId)).toEqual(['m2:1']);
        expect((await store.claimNotifications(a.id, T0 + 2000, 10, 1000)).map((j) => j.event.eventId)).toEqual(['m1:1', 'm2:1']);
      });

      it('a retried head holds back later events of its message, not other messages or destinations', async () => {
        const { a, b } = await setup();
        const [h1, h2] = await store.claimNotifications(a.id, T0 + 10, 10, 30_000);
        await store.markNotificationRetry(h1!.id, T0 + 1000, '503');
        await store.markNotificationDelivered(h2!.id, T0 + 11, '200');
        expect(await store.claimNotifications(a.id, T0 + 20, 10, 30_000)).toEqual([]);
        expect(await store.nextNotificationDue(a.id)).toBe(T0 + 1000);
        // destination b is not delayed by a's trouble
        expect((await store.claimNotifications(b.id, T0 + 20, 10, 30_000)).map((j) => j.event.eventId)).toEqual(['m1:1', 'm2:1']);
        // a new event of m1 also waits behind the head in backoff
        await store.recordOpens([{ messageId: 'm1', at: T0 + 30, ipAddress: '1.1.1.1', userAgent: 'u' }]);
        expect(await store.claimNotifications(a.id, T0 + 40, 10, 30_000)).toEqual([]);
        const again = await store.claimNotifications(a.id, T0 + 1000, 10, 30_000);
        expect(again.map((j) => [j.event.eventId, j.attempts])).toEqual([['m1:1', 1]]);
      });

      it('dead rows are listed and replayed; delivered ones only when asked and in range', async () => {
        const { a } = await setup();
        const jobs = await store.claimNotifications(a.id, T0 + 10, 10, 30_000);
        await store.markNotificationDead(jobs[0]!.id, T0 + 20, 'gave up: 500');
        await store.markNotificationDelivered(jobs[1]!.id, T0 + 20, '204');
        const dead = await store.listNotifications({ destinationId: a.id, state: 'dead' }, 10);
        expect(dead).toEqual([expect.objectContaining({ eventId: 'm1:1', state: 'dead', attempts: 1, lastStatus: 'gave up: 500' })]);
        const delivered = await store.listNotifications({ state: 'delivered' }, 10);
        expect(delivered).toEqual([expect.objectContaining({ eventId: 'm2:1', deliveredAt: T0 + 20, attempts: 1, lastStatus: '204' })]);
        // dead rows do not block their message: m1:2 is now the head
        expect((await store.claimNotifications(a.id, T0 + 30, 10, 30_000)).map((j) => j.event.eventId)).toEqual(['m1:2']);
        expect(await store.replayNotifications(a.id, { states: ['dead'] }, T0 + 100)).toBe(1);
        const re = (await store.listNotifications({ destinationId: a.id, messageId: 'm1' }, 10))[0]!;
        expect(re).toMatchObject({ eventId: 'm1:1', state: 'pending', attempts: 0, nextAttemptAt: T0 + 100 });
        // delivered in [since, until): created_at of m2:1 is T0+1
        expect(await store.replayNotifications(a.id, { states: ['delivered'], since: T0 + 2, until: T0 + 50 }, T0 + 100)).toBe(0);
        expect(await store.replayNotifications(a.id, { states: ['delivered'], since: T0 + 1, until: T0 + 2 }, T0 + 100)).toBe(1);
        expect((await store.listNotifications({ destinationId: a.id, state: 'pending' }, 10)).map((n) => n.eventId).sort()).toEqual(['m1:1', 'm1:2', 'm2:1']);
        expect(await store.listNotifications({ destinationId: a.id, since: T0 + 2 }, 10)).toHaveLength(1);
        expect(await store.listNotifications({ destinationId: a.id, until: T0 + 2 }, 10)).toHaveLength(2);
        expect(await store.listNotifications({ destinationId: a.id }, 1)).toHaveLength(1);
      });

      it('a retry ends the lease: the row is due again at its retry time', async () => {
        const { a } = await setup();
        const [h] = await store.claimNotifications(a.id, T0 + 10, 1, 60_000);
        await store.markNotificationRetry(h!.id, T0 + 100, 'timeout');
        expect(await store.claimNotifications(a.id, T0 + 99, 10, 60_000)).toEqual([expect.objectContaining({ event: expect.objectContaining({ eventId: 'm2:1' }) })]);
        expect((await store.claimNotifications(a.id, T0 + 100, 10, 60_000)).map((j) => [j.id, j.attempts])).toEqual([[h!.id, 1]]);
        const row = (await store.listNotifications({ destinationId: a.id, messageId: 'm1' }, 1))[0]!;
        expect(row).toMatchObject({ id: h!.id, attempts: 1, lastStatus: 'timeout', nextAttemptAt: T0 + 100, state: 'pending' });
      });

      it('a row killed by destination deletion while in flight stays dead on retry, becomes delivered on success', async () => {
        const { a } = await setup();
        const [h1, h2] = await store.claimNotifications(a.id, T0 + 10, 10, 60_000);
        await store.deleteDestination('set1', 'a');
        await store.markNotificationRetry(h1!.id, T0 + 100, '503');
        await store.markNotificationDelivered(h2!.id, T0 + 20, '200');
        const rows = await store.listNotifications({ destinationId: a.id }, 10);
        expect(rows.map((n) => [n.eventId, n.state])).toEqual([['m1:1', 'dead'], ['m2:1', 'delivered'], ['m1:2', 'dead']]);
        expect(await store.claimNotifications(a.id, T0 + 1000, 10, 1000)).toEqual([]);
      });

      it('replays dead and delivered rows together when both are asked for', async () => {
        const { a } = await setup();
        const jobs = await store.claimNotifications(a.id, T0 + 10, 10, 60_000);
        await store.markNotificationDead(jobs[0]!.id, T0 + 20, 'gave up');
        await store.markNotificationDelivered(jobs[1]!.id, T0 + 20, '200');
        expect(await store.replayNotifications(a.id, { states: ['dead', 'delivered'] }, T0 + 30)).toBe(2);
        const rows = await store.listNotifications({ destinationId: a.id }, 10);
        expect(rows.every((r) => r.state === 'pending' && r.deliveredAt === null)).toBe(true);
        expect(rows.filter((r) => r.eventId !== 'm1:2').every((r) => r.attempts === 0 && r.nextAttemptAt === T0 + 30)).toBe(true);
        // the other destination's rows were not touched
        expect(await store.listNotifications({ state: 'dead' }, 10)).toEqual([]);
        expect(await store.replayNotifications(a.id, { states: [] }, T0 + 40)).toBe(0);
      });

      it('schedules: nextNotificationDue and destinationsWithPending', async () => {
        const { a, b } = await makeSet('set1', { a: ['SEND'], b: ['SEND'] });
        const { c } = await makeSet('set2', { c: ['SEND'] });
        expect(await store.nextNotificationDue(a.id)).toBeNull();
        await store.acceptMessage(newMessage('m1', { acceptedAt: T0 + 50 }), snap(a, b), [send(T0 + 50)]);
        expect(await store.nextNotificationDue(a.id)).toBe(T0 + 50);
        expect(await store.destinationsWithPending(T0)).toEqual([]);
        expect((await store.destinationsWithPending(T0 + 50)).sort()).toEqual([a.id, b.id].sort());
        const [j] = await store.claimNotifications(b.id, T0 + 50, 10, 1000);
        await store.markNotificationDelivered(j!.id, T0 + 51, '200');
        expect(await store.destinationsWithPending(T0 + 60)).toEqual([a.id]);
        expect(await store.nextNotificationDue(b.id)).toBeNull();
        expect(c).toBeDefined();
      });
    });

    it('counts', async () => {
      const { a } = await makeSet('set1', { a: ['SEND'] });
      await store.acceptMessage(newMessage('m1'), snap(a!), [send()]);
      const c = await store.counts();
      expect(c).toMatchObject({ messages: 1, events: 1, outboundPending: 1, notificationsPending: 1, notificationsDead: 0 });
      for (const v of Object.values(c)) expect(typeof v).toBe('number');
    });
  });
}
