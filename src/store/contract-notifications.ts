// Store contract, part 3: claiming notifications (per-message order, leases, due times),
// marking, listing, replay and scheduling queries. Registered by runStoreContract (contract.ts).
import { describe, expect, it } from 'vitest';
import { T0, newMessage, send, type ContractContext } from './contract-fixtures.js';

export function notificationsContract(ctx: ContractContext): void {
  describe('notifications', () => {
    async function setup() {
      const { a, b } = await ctx.makeSet('set1', { a: ['SEND', 'OPEN'], b: ['SEND', 'OPEN'] });
      await ctx.store.acceptMessage(newMessage('m1', { acceptedAt: T0 }), ctx.snap(a!, b!), [send(T0)]);
      await ctx.store.acceptMessage(newMessage('m2', { acceptedAt: T0 + 1 }), ctx.snap(a!, b!), [send(T0 + 1)]);
      await ctx.store.recordOpens([{ messageId: 'm1', at: T0 + 2, ipAddress: '1.1.1.1', userAgent: 'u' }]);
      return { a: a!, b: b! };
    }

    it('claims at most the head of each message, oldest first, with event and mail', async () => {
      const { a } = await setup();
      const jobs = await ctx.store.claimNotifications(a.id, T0 + 10, 10, 30_000);
      expect(jobs.map((j) => j.event.eventId)).toEqual(['m1:1', 'm2:1']);
      expect(jobs[0]).toMatchObject({ destinationId: a.id, attempts: 0, createdAt: T0,
        event: { kind: 'Send', messageId: 'm1', seq: 1, at: T0, detail: {} },
        mail: { messageId: 'm1', tags: { k: ['v'] } } });
      // leased: not handed out again, and m1:2 waits behind its leased head
      expect(await ctx.store.claimNotifications(a.id, T0 + 10, 10, 30_000)).toEqual([]);
      await ctx.store.markNotificationDelivered(jobs[0]!.id, T0 + 11, '200');
      const next = await ctx.store.claimNotifications(a.id, T0 + 12, 10, 30_000);
      expect(next.map((j) => j.event.eventId)).toEqual(['m1:2']);
      expect(next[0]!.event.detail).toMatchObject({ ipAddress: '1.1.1.1' });
    });

    it('respects limit and due time, and comes back after the lease', async () => {
      const { a } = await setup();
      expect(await ctx.store.claimNotifications(a.id, T0 - 1, 10, 1000)).toEqual([]);
      expect(await ctx.store.claimNotifications(a.id, T0, 10, 1000)).toHaveLength(1); // only m1's Send is due at T0
      const one = await ctx.store.claimNotifications(a.id, T0 + 5, 1, 1000);
      expect(one.map((j) => j.event.eventId)).toEqual(['m2:1']);
      expect((await ctx.store.claimNotifications(a.id, T0 + 2000, 10, 1000)).map((j) => j.event.eventId)).toEqual(['m1:1', 'm2:1']);
    });

    it('a retried head holds back later events of its message, not other messages or destinations', async () => {
      const { a, b } = await setup();
      const [h1, h2] = await ctx.store.claimNotifications(a.id, T0 + 10, 10, 30_000);
      await ctx.store.markNotificationRetry(h1!.id, T0 + 1000, '503');
      await ctx.store.markNotificationDelivered(h2!.id, T0 + 11, '200');
      expect(await ctx.store.claimNotifications(a.id, T0 + 20, 10, 30_000)).toEqual([]);
      expect(await ctx.store.nextNotificationDue(a.id)).toBe(T0 + 1000);
      // destination b is not delayed by a's trouble
      expect((await ctx.store.claimNotifications(b.id, T0 + 20, 10, 30_000)).map((j) => j.event.eventId)).toEqual(['m1:1', 'm2:1']);
      // a new event of m1 also waits behind the head in backoff
      await ctx.store.recordOpens([{ messageId: 'm1', at: T0 + 30, ipAddress: '1.1.1.1', userAgent: 'u' }]);
      expect(await ctx.store.claimNotifications(a.id, T0 + 40, 10, 30_000)).toEqual([]);
      expect(await ctx.store.nextNotificationDue(a.id)).toBe(T0 + 1000); // nothing to wake the dispatcher for earlier
      const again = await ctx.store.claimNotifications(a.id, T0 + 1000, 10, 30_000);
      expect(again.map((j) => [j.event.eventId, j.attempts])).toEqual([['m1:1', 1]]);
    });

    it('dead rows are listed and replayed; delivered ones only when asked and in range', async () => {
      const { a } = await setup();
      const jobs = await ctx.store.claimNotifications(a.id, T0 + 10, 10, 30_000);
      await ctx.store.markNotificationDead(jobs[0]!.id, T0 + 20, 'gave up: 500');
      await ctx.store.markNotificationDelivered(jobs[1]!.id, T0 + 20, '204');
      const dead = await ctx.store.listNotifications({ destinationId: a.id, state: 'dead' }, 10);
      expect(dead).toEqual([expect.objectContaining({ eventId: 'm1:1', state: 'dead', attempts: 1, lastStatus: 'gave up: 500' })]);
      const delivered = await ctx.store.listNotifications({ state: 'delivered' }, 10);
      expect(delivered).toEqual([expect.objectContaining({ eventId: 'm2:1', deliveredAt: T0 + 20, attempts: 1, lastStatus: '204' })]);
      // dead rows do not block their message: m1:2 is now the head
      expect((await ctx.store.claimNotifications(a.id, T0 + 30, 10, 30_000)).map((j) => j.event.eventId)).toEqual(['m1:2']);
      expect(await ctx.store.replayNotifications(a.id, { states: ['dead'] }, T0 + 100)).toBe(1);
      const re = (await ctx.store.listNotifications({ destinationId: a.id, messageId: 'm1' }, 10))[0]!;
      expect(re).toMatchObject({ eventId: 'm1:1', state: 'pending', attempts: 0, nextAttemptAt: T0 + 100 });
      // delivered in [since, until): created_at of m2:1 is T0+1
      expect(await ctx.store.replayNotifications(a.id, { states: ['delivered'], since: T0 + 2, until: T0 + 50 }, T0 + 100)).toBe(0);
      expect(await ctx.store.replayNotifications(a.id, { states: ['delivered'], since: T0 + 1, until: T0 + 2 }, T0 + 100)).toBe(1);
      expect((await ctx.store.listNotifications({ destinationId: a.id, state: 'pending' }, 10)).map((n) => n.eventId).sort()).toEqual(['m1:1', 'm1:2', 'm2:1']);
      expect(await ctx.store.listNotifications({ destinationId: a.id, since: T0 + 2 }, 10)).toHaveLength(1);
      expect(await ctx.store.listNotifications({ destinationId: a.id, until: T0 + 2 }, 10)).toHaveLength(2);
      expect(await ctx.store.listNotifications({ destinationId: a.id }, 1)).toHaveLength(1);
    });

    it('a retry ends the lease: the row is due again at its retry time', async () => {
      const { a } = await setup();
      const [h] = await ctx.store.claimNotifications(a.id, T0 + 10, 1, 60_000);
      await ctx.store.markNotificationRetry(h!.id, T0 + 100, 'timeout');
      expect(await ctx.store.claimNotifications(a.id, T0 + 99, 10, 60_000)).toEqual([expect.objectContaining({ event: expect.objectContaining({ eventId: 'm2:1' }) })]);
      expect((await ctx.store.claimNotifications(a.id, T0 + 100, 10, 60_000)).map((j) => [j.id, j.attempts])).toEqual([[h!.id, 1]]);
      const row = (await ctx.store.listNotifications({ destinationId: a.id, messageId: 'm1' }, 1))[0]!;
      expect(row).toMatchObject({ id: h!.id, attempts: 1, lastStatus: 'timeout', nextAttemptAt: T0 + 100, state: 'pending' });
    });

    it('a row killed by destination deletion while in flight stays dead on retry, becomes delivered on success', async () => {
      const { a } = await setup();
      const [h1, h2] = await ctx.store.claimNotifications(a.id, T0 + 10, 10, 60_000);
      await ctx.store.deleteDestination('set1', 'a');
      await ctx.store.markNotificationRetry(h1!.id, T0 + 100, '503');
      await ctx.store.markNotificationDelivered(h2!.id, T0 + 20, '200');
      const rows = await ctx.store.listNotifications({ destinationId: a.id }, 10);
      expect(rows.map((n) => [n.eventId, n.state])).toEqual([['m1:1', 'dead'], ['m2:1', 'delivered'], ['m1:2', 'dead']]);
      expect(await ctx.store.claimNotifications(a.id, T0 + 1000, 10, 1000)).toEqual([]);
    });

    it('replays dead and delivered rows together when both are asked for', async () => {
      const { a } = await setup();
      const jobs = await ctx.store.claimNotifications(a.id, T0 + 10, 10, 60_000);
      await ctx.store.markNotificationDead(jobs[0]!.id, T0 + 20, 'gave up');
      await ctx.store.markNotificationDelivered(jobs[1]!.id, T0 + 20, '200');
      expect(await ctx.store.replayNotifications(a.id, { states: ['dead', 'delivered'] }, T0 + 30)).toBe(2);
      const rows = await ctx.store.listNotifications({ destinationId: a.id }, 10);
      expect(rows.every((r) => r.state === 'pending' && r.deliveredAt === null)).toBe(true);
      expect(rows.filter((r) => r.eventId !== 'm1:2').every((r) => r.attempts === 0 && r.nextAttemptAt === T0 + 30)).toBe(true);
      // the other destination's rows were not touched
      expect(await ctx.store.listNotifications({ state: 'dead' }, 10)).toEqual([]);
      expect(await ctx.store.replayNotifications(a.id, { states: [] }, T0 + 40)).toBe(0);
    });

    it('schedules: nextNotificationDue and destinationsWithPending', async () => {
      const { a, b } = await ctx.makeSet('set1', { a: ['SEND'], b: ['SEND'] });
      const { c } = await ctx.makeSet('set2', { c: ['SEND'] });
      expect(await ctx.store.nextNotificationDue(a.id)).toBeNull();
      await ctx.store.acceptMessage(newMessage('m1', { acceptedAt: T0 + 50 }), ctx.snap(a, b), [send(T0 + 50)]);
      expect(await ctx.store.nextNotificationDue(a.id)).toBe(T0 + 50);
      expect(await ctx.store.destinationsWithPending(T0)).toEqual([]);
      expect((await ctx.store.destinationsWithPending(T0 + 50)).sort()).toEqual([a.id, b.id].sort());
      const [j] = await ctx.store.claimNotifications(b.id, T0 + 50, 10, 1000);
      await ctx.store.markNotificationDelivered(j!.id, T0 + 51, '200');
      expect(await ctx.store.destinationsWithPending(T0 + 60)).toEqual([a.id]);
      expect(await ctx.store.nextNotificationDue(b.id)).toBeNull();
      expect(c).toBeDefined();
    });
  });

  it('counts', async () => {
    const { a } = await ctx.makeSet('set1', { a: ['SEND'] });
    await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(a!), [send()]);
    const c = await ctx.store.counts();
    expect(c).toMatchObject({ messages: 1, events: 1, outboundPending: 1, notificationsPending: 1, notificationsDead: 0 });
    for (const v of Object.values(c)) expect(typeof v).toBe('number');
  });
}
