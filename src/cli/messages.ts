// `mailbeacon messages list|show`: what the gateway accepted, where each recipient stands,
// the events (Send, Delivery, Open, ...), each notification's delivery state, and the
// captured body (like Mailpit when no relay is configured).
import type { Command } from 'commander';
import { action, printJson, withStore, UsageError } from './context.js';
import { renderEvent, rfc3339 } from '../events/model.js';

export function registerMessages(program: Command): void {
  const messages = program.command('messages').description('accepted messages, their events and captured bodies');

  messages.command('list')
    .description('newest first')
    .option('--limit <n>', 'how many', '20')
    .action(action(async (opts: { limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit: a whole number from 1 to 1000');
      await withStore(async (store) => {
        const page = await store.listMessages(limit);
        printJson(page.items.map((m) => ({
          messageId: m.id, acceptedAt: rfc3339(m.acceptedAt), from: m.mailFrom, recipients: m.recipients,
          subject: (m.mail.commonHeaders as { subject?: string } | undefined)?.subject,
          configurationSet: m.configSetName, status: m.status, tracked: m.tracked, opens: m.openCount,
        })));
      });
    }));

  messages.command('show <messageId>')
    .description('status, recipients, events, notifications; --raw prints the stored message')
    .option('--raw', 'print the stored (captured/relayed) message bytes instead')
    .action(action(async (id: string, opts: { raw?: boolean }) => {
      await withStore(async (store) => {
        const msg = await store.getMessage(id);
        if (!msg) throw new UsageError(`no message ${id}`);
        if (opts.raw) {
          process.stdout.write((await store.getMessageRaw(id)) ?? Buffer.alloc(0));
          return;
        }
        const [events, outbound, notifications] = await Promise.all([
          store.listMessageEvents(id), store.listMessageOutbound(id), store.listNotifications({ messageId: id }, 1000),
        ]);
        printJson({
          messageId: msg.id,
          acceptedAt: rfc3339(msg.acceptedAt),
          from: msg.mailFrom,
          identity: msg.identity,
          configurationSet: msg.configSetName,
          status: msg.status,
          size: msg.size,
          tracking: { tracked: msg.tracked, outcome: msg.injectOutcome, opens: msg.openCount },
          recipients: outbound.map((o) => ({ ...o, nextAttemptAt: o.state === 'pending' ? rfc3339(o.nextAttemptAt) : undefined })),
          opens: events.filter((e) => e.kind === 'Open').map((e) => ({ eventId: e.eventId, ...e.detail })),
          // Each event as its notification carries it, without the `mail` block repeated
          // (shown once above); `notifications` says where each one went.
          mail: msg.mail,
          events: events.map((e) => {
            const { mail: _mail, ...rest } = renderEvent(e, {});
            return rest;
          }),
          notifications: notifications.map((n) => ({
            eventId: n.eventId, eventType: n.kind, destinationId: n.destinationId, state: n.state,
            attempts: n.attempts, lastStatus: n.lastStatus,
            deliveredAt: n.deliveredAt ? rfc3339(n.deliveredAt) : undefined,
            nextAttemptAt: n.state === 'pending' ? rfc3339(n.nextAttemptAt) : undefined,
          })),
        });
      });
    }));
}
