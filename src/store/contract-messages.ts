// Store contract, part 2: accepting messages, the outbound queue, appended events and
// recorded opens with their fan-out. Registered by runStoreContract (contract.ts).
import { describe, expect, it } from 'vitest';
import { StoreConflict } from './port.js';
import { T0, newMessage, send, type ContractContext } from './contract-fixtures.js';

export function messagesContract(ctx: ContractContext): void {
  describe('acceptMessage and messages', () => {
    it('stores message, raw bytes, outbound rows, events and notification rows in one go', async () => {
      const { s, o, d } = await ctx.makeSet('set1', { s: ['SEND', 'OPEN'], o: ['OPEN'], d: ['SEND', 'DELIVERY'] });
      const raw = Buffer.from([0x53, 0x3a, 0x20, 0xff, 0x00, 0x0d, 0x0a, 0x80]);
      const msg = newMessage('m1', { recipients: ['a@x.net', 'b@x.net'], raw });
      const events = await ctx.store.acceptMessage(msg, ctx.snap(s!, o!, d!), [send(), { kind: 'Reject', at: T0, detail: { reason: 'x' } }]);
      expect(events).toEqual([
        { kind: 'Send', at: T0, detail: {}, messageId: 'm1', seq: 1, eventId: 'm1:1' },
        { kind: 'Reject', at: T0, detail: { reason: 'x' }, messageId: 'm1', seq: 2, eventId: 'm1:2' },
      ]);
      const { raw: _raw, ...rest } = msg;
      expect(await ctx.store.getMessage('m1')).toEqual({ ...rest, status: 'queued', size: raw.length, openCount: 0 });
      expect((await ctx.store.getMessageRaw('m1'))!.equals(raw)).toBe(true);
      expect(await ctx.store.getMessageRaw('nope')).toBeUndefined();
      expect(await ctx.store.getMessage('nope')).toBeUndefined();
      expect(await ctx.store.listMessageEvents('m1')).toEqual(events);
      expect(await ctx.store.listMessageOutbound('m1')).toEqual([
        { recipient: 'a@x.net', state: 'pending', attempts: 0, lastError: null, nextAttemptAt: T0 },
        { recipient: 'b@x.net', state: 'pending', attempts: 0, lastError: null, nextAttemptAt: T0 },
      ]);
      // Send goes to s and d (SEND), not o; Reject matches nobody.
      const notes = await ctx.store.listNotifications({ messageId: 'm1' }, 10);
      expect(notes.map((n) => [n.destinationId, n.eventId, n.kind, n.state]).sort()).toEqual(
        [[s!.id, 'm1:1', 'Send', 'pending'], [d!.id, 'm1:1', 'Send', 'pending']].sort());
      expect(notes[0]).toMatchObject({ attempts: 0, nextAttemptAt: T0, createdAt: T0, deliveredAt: null, lastStatus: null });
    });

    it('rejects a duplicate MessageId without touching the first', async () => {
      await ctx.store.acceptMessage(newMessage('m1'), [], [send()]);
      await expect(ctx.store.acceptMessage(newMessage('m1', { recipients: ['x@y.z', 'q@y.z'] }), [], [send()]))
        .rejects.toBeInstanceOf(StoreConflict);
      expect(await ctx.store.listMessageOutbound('m1')).toHaveLength(1);
      expect(await ctx.store.listMessageEvents('m1')).toHaveLength(1);
    });

    it('writes nothing when the transaction fails half-way (unknown snapshot destination)', async () => {
      await expect(ctx.store.acceptMessage(newMessage('m1'), [{ destinationId: 987654, eventTypes: ['SEND'] }], [send()]))
        .rejects.toThrow();
      expect(await ctx.store.getMessage('m1')).toBeUndefined();
      expect(await ctx.store.getMessageRaw('m1')).toBeUndefined();
      expect(await ctx.store.listMessageOutbound('m1')).toEqual([]);
      expect(await ctx.store.listMessageEvents('m1')).toEqual([]);
    });

    it('lists messages newest first with stable paging', async () => {
      for (let i = 0; i < 5; i++) await ctx.store.acceptMessage(newMessage(`m${i}`, { acceptedAt: T0 + (i < 3 ? 0 : i) }), [], []);
      const seen: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 5; page++) {
        const p = await ctx.store.listMessages(2, token);
        seen.push(...p.items.map((m) => m.id));
        if (!p.nextToken) break;
        token = p.nextToken;
      }
      expect(seen).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
      const first = await ctx.store.listMessages(10);
      expect(first.nextToken).toBeNull();
      expect(first.items[0]).not.toHaveProperty('raw');
    });
  });

  describe('outbound queue', () => {
    it('claims due rows oldest first, leases them, and hands them back after the lease', async () => {
      await ctx.store.acceptMessage(newMessage('late', { acceptedAt: T0 + 100 }), [], []);
      await ctx.store.acceptMessage(newMessage('m1', { recipients: ['a@x', 'b@x'], deliveryOptions: { TlsPolicy: 'REQUIRE' } }), [], []);
      expect(await ctx.store.claimOutbound(T0 - 1, 10, 1000)).toEqual([]);
      const jobs = await ctx.store.claimOutbound(T0 + 100, 2, 1000);
      expect(jobs.map((j) => [j.messageId, j.recipient])).toEqual([['m1', 'a@x'], ['m1', 'b@x']]);
      expect(jobs[0]).toMatchObject({ attempts: 0, firstFailureAt: null, delayEmitted: false, acceptedAt: T0, mailFrom: 'sender@example.com', deliveryOptions: { TlsPolicy: 'REQUIRE' } });
      expect((await ctx.store.claimOutbound(T0 + 100, 10, 1000)).map((j) => j.messageId)).toEqual(['late']);
      expect(await ctx.store.claimOutbound(T0 + 500, 10, 1000)).toEqual([]);
      // lease over: a crashed worker's rows come back
      expect((await ctx.store.claimOutbound(T0 + 1200, 10, 1000)).map((j) => j.recipient).sort()).toEqual(['a@x', 'b@x', 'rcpt@example.net']);
    });

    it('applies outcomes: events, notification rows and message status in one go', async () => {
      const { d } = await ctx.makeSet('set1', { d: ['DELIVERY', 'BOUNCE', 'DELIVERY_DELAY'] });
      await ctx.store.acceptMessage(newMessage('ok'), ctx.snap(d!), [send()]);
      await ctx.store.acceptMessage(newMessage('bad'), ctx.snap(d!), [send()]);
      await ctx.store.acceptMessage(newMessage('mix', { recipients: ['a@x', 'b@x'] }), ctx.snap(d!), [send()]);
      await ctx.store.acceptMessage(newMessage('cap'), ctx.snap(d!), [send()]);
      const jobs = await ctx.store.claimOutbound(T0, 10, 60_000);
      const id = (m: string, r = 'rcpt@example.net') => jobs.find((j) => j.messageId === m && j.recipient === r)!.id;
      expect(await ctx.store.getMessage('ok')).toMatchObject({ status: 'sending' });
      await ctx.store.completeOutbound([
        { outboundId: id('ok'), state: 'delivered', lastError: null, events: [{ kind: 'Delivery', at: T0 + 10, detail: { recipients: ['rcpt@example.net'] } }] },
        { outboundId: id('bad'), state: 'bounced', lastError: '550 no such user', events: [{ kind: 'Bounce', at: T0 + 10, detail: { bounceType: 'Permanent' } }] },
        { outboundId: id('mix', 'a@x'), state: 'delivered', events: [] },
        { outboundId: id('mix', 'b@x'), state: 'retry', nextAttemptAt: T0 + 5000, lastError: '451 later', delayEmitted: true, events: [{ kind: 'DeliveryDelay', at: T0 + 10, detail: {} }] },
        { outboundId: id('cap'), state: 'captured', events: [] },
      ]);
      expect((await ctx.store.getMessage('ok'))!.status).toBe('delivered');
      expect((await ctx.store.getMessage('bad'))!.status).toBe('bounced');
      expect((await ctx.store.getMessage('mix'))!.status).toBe('delayed');
      expect((await ctx.store.getMessage('cap'))!.status).toBe('captured');
      expect((await ctx.store.listMessageEvents('ok')).map((e) => [e.eventId, e.kind])).toEqual([['ok:1', 'Send'], ['ok:2', 'Delivery']]);
      expect(await ctx.store.listMessageOutbound('bad')).toEqual([{ recipient: 'rcpt@example.net', state: 'bounced', attempts: 1, lastError: '550 no such user', nextAttemptAt: T0 }]);
      expect(await ctx.store.listMessageOutbound('mix')).toEqual([
        { recipient: 'a@x', state: 'delivered', attempts: 1, lastError: null, nextAttemptAt: T0 },
        { recipient: 'b@x', state: 'pending', attempts: 1, lastError: '451 later', nextAttemptAt: T0 + 5000 },
      ]);
      const kinds = (await ctx.store.listNotifications({ destinationId: d!.id }, 50)).map((n) => `${n.messageId}:${n.kind}`).sort();
      expect(kinds).toEqual(['bad:Bounce', 'mix:DeliveryDelay', 'ok:Delivery']);
      // retry: not due before nextAttemptAt, and it carries its history
      expect(await ctx.store.claimOutbound(T0 + 4999, 10, 1000)).toEqual([]);
      const [again] = await ctx.store.claimOutbound(T0 + 5000, 10, 1000);
      expect(again).toMatchObject({ messageId: 'mix', recipient: 'b@x', attempts: 1, firstFailureAt: T0 + 10, delayEmitted: true });
      await ctx.store.completeOutbound([{ outboundId: again!.id, state: 'bounced', events: [] }]);
      expect((await ctx.store.getMessage('mix'))!.status).toBe('partial');
      // an outcome for a row already final is ignored (a second worker after lease expiry)
      await ctx.store.completeOutbound([{ outboundId: id('ok'), state: 'delivered', events: [{ kind: 'Delivery', at: T0 + 20, detail: {} }] }]);
      expect(await ctx.store.listMessageEvents('ok')).toHaveLength(2);
    });
  });

  describe('events and opens', () => {
    it('appendEvents continues the per-message seq and fans out', async () => {
      const { d } = await ctx.makeSet('set1', { d: ['DELIVERY'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(d!), [send()]);
      const evs = await ctx.store.appendEvents('m1', [{ kind: 'Delivery', at: T0 + 1, detail: { a: 1 } }, { kind: 'Delivery', at: T0 + 2, detail: { a: 2 } }]);
      expect(evs.map((e) => e.eventId)).toEqual(['m1:2', 'm1:3']);
      expect((await ctx.store.listNotifications({ destinationId: d!.id }, 10)).map((n) => n.eventId)).toEqual(['m1:2', 'm1:3']);
      await expect(ctx.store.appendEvents('nope', [send()])).rejects.toThrow();
      expect(await ctx.store.appendEvents('m1', [])).toEqual([]);
    });

    it('recordOpens: one Open event per open, one notification per OPEN destination, unknown ids null', async () => {
      const { o1, o2, s } = await ctx.makeSet('set1', { o1: ['OPEN'], o2: ['OPEN', 'SEND'], s: ['SEND'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(o1!, o2!, s!), [send()]);
      await ctx.store.acceptMessage(newMessage('m2'), ctx.snap(o1!), []);
      const opens = [0, 1, 2, 3, 4].map((i) => ({ messageId: 'm1', at: T0 + 1000 + i, ipAddress: `192.0.2.${i}`, userAgent: 'UA' }));
      const res = await ctx.store.recordOpens([...opens.slice(0, 2), { messageId: 'ghost', at: T0, ipAddress: '1.1.1.1', userAgent: 'x' },
        { messageId: 'm2', at: T0 + 7, ipAddress: '::1', userAgent: 'y' }, ...opens.slice(2)]);
      expect(res).toEqual([2, 3, null, 1, 4, 5, 6]);
      expect((await ctx.store.getMessage('m1'))!.openCount).toBe(5);
      expect((await ctx.store.getMessage('m2'))!.openCount).toBe(1);
      expect(await ctx.store.getMessage('ghost')).toBeUndefined();
      const evs = await ctx.store.listMessageEvents('m1');
      expect(evs.map((e) => e.kind)).toEqual(['Send', 'Open', 'Open', 'Open', 'Open', 'Open']);
      expect(evs[1]).toEqual({ messageId: 'm1', seq: 2, eventId: 'm1:2', kind: 'Open', at: T0 + 1000,
        detail: { ipAddress: '192.0.2.0', timestamp: new Date(T0 + 1000).toISOString(), userAgent: 'UA' } });
      const opensOf = async (id: number) => (await ctx.store.listNotifications({ destinationId: id, messageId: 'm1' }, 50)).filter((n) => n.kind === 'Open');
      expect(await opensOf(o1!.id)).toHaveLength(5);
      expect(await opensOf(o2!.id)).toHaveLength(5);
      expect(await opensOf(s!.id)).toHaveLength(0);
      expect(await ctx.store.recordOpens([])).toEqual([]);
    });

    it('keeps each open exactly: the timestamp to the millisecond, any User-Agent text', async () => {
      const { o } = await ctx.makeSet('set1', { o: ['OPEN'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(o), []);
      // Milliseconds 0, 5, 999; the epoch second; a UA with quotes, backslash, tab, non-ASCII.
      const ats = [T0, T0 + 5, T0 + 999, 1_000, 4_102_444_799_999];
      const uas = ['', 'Mozilla/5.0 "q" \\ x', 'tab\there', 'Ünïcødé ☃ \u{1F600}', 'x'.repeat(512)];
      await ctx.store.recordOpens(ats.map((at, i) => ({ messageId: 'm1', at, ipAddress: i % 2 ? '2001:db8::1' : '203.0.113.9', userAgent: uas[i]! })));
      const evs = await ctx.store.listMessageEvents('m1');
      expect(evs.map((e) => [e.at, e.detail])).toEqual(ats.map((at, i) => [at,
        { ipAddress: i % 2 ? '2001:db8::1' : '203.0.113.9', timestamp: new Date(at).toISOString(), userAgent: uas[i] }]));
    });

    it('numbers several opens of one message in one batch consecutively; a batch of only unknown ids writes nothing', async () => {
      const { o } = await ctx.makeSet('set1', { o: ['OPEN'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(o), [send()]);
      const open = (at: number) => ({ messageId: 'm1', at, ipAddress: '198.51.100.7', userAgent: 'Mail/1.0' });
      expect(await ctx.store.recordOpens([open(T0 + 1), open(T0 + 2), open(T0 + 3)])).toEqual([2, 3, 4]);
      const before = await ctx.store.counts();
      expect(await ctx.store.recordOpens([{ ...open(T0), messageId: 'x' }, { ...open(T0), messageId: 'y' }])).toEqual([null, null]);
      expect(await ctx.store.counts()).toEqual(before);
      const rows = await ctx.store.listNotifications({ messageId: 'm1', destinationId: o.id }, 10);
      expect(rows.map((n) => [n.eventId, n.createdAt, n.nextAttemptAt])).toEqual([
        ['m1:2', T0 + 1, T0 + 1], ['m1:3', T0 + 2, T0 + 2], ['m1:4', T0 + 3, T0 + 3]]);
    });

    it('concurrent recordOpens calls all land, with distinct seqs', async () => {
      const { o } = await ctx.makeSet('set1', { o: ['OPEN'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(o), []);
      const calls = Array.from({ length: 20 }, (_, i) =>
        ctx.store.recordOpens([{ messageId: 'm1', at: T0 + i, ipAddress: '::1', userAgent: 'u' }, { messageId: 'm1', at: T0 + i, ipAddress: '::1', userAgent: 'u' }]));
      const seqs = (await Promise.all(calls)).flat();
      expect(new Set(seqs).size).toBe(40);
      expect([...seqs].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect((await ctx.store.getMessage('m1'))!.openCount).toBe(40);
      expect(await ctx.store.listNotifications({ destinationId: o.id }, 100)).toHaveLength(40);
    });

    it('routes by the snapshot taken at accept, not by later edits of the set', async () => {
      const { o } = await ctx.makeSet('set1', { o: ['OPEN'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(o), [send()]);
      await ctx.store.updateDestination('set1', 'o', { enabled: true, matchingEventTypes: ['OPEN', 'SEND', 'DELIVERY'], kind: 'webhook', settings: {} });
      const late = await ctx.store.createDestination({ ...o, name: 'late', id: undefined } as never);
      await ctx.store.appendEvents('m1', [{ kind: 'Delivery', at: T0 + 1, detail: {} }]);
      await ctx.store.recordOpens([{ messageId: 'm1', at: T0 + 2, ipAddress: '::1', userAgent: 'u' }]);
      expect((await ctx.store.listNotifications({ destinationId: o.id }, 10)).map((n) => n.kind)).toEqual(['Open']);
      expect(await ctx.store.listNotifications({ destinationId: late.id }, 10)).toEqual([]);
    });

    it('stores large and binary raw messages byte for byte', async () => {
      const raw = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + 7) & 0xff;
      await ctx.store.acceptMessage(newMessage('big', { raw }), [], []);
      expect((await ctx.store.getMessageRaw('big'))!.equals(raw)).toBe(true);
      expect((await ctx.store.getMessage('big'))!.size).toBe(raw.length);
    });

    it('a disabled destination gets no new notification rows', async () => {
      const { o } = await ctx.makeSet('set1', { o: ['OPEN'] });
      await ctx.store.acceptMessage(newMessage('m1'), ctx.snap(o!), []);
      await ctx.store.disableDestination(o!.id, 'webhook answered 410');
      await ctx.store.recordOpens([{ messageId: 'm1', at: T0, ipAddress: '1.2.3.4', userAgent: 'u' }]);
      expect(await ctx.store.listNotifications({ destinationId: o!.id }, 10)).toEqual([]);
    });
  });

}
