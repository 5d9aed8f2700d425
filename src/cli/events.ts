// `mailbeacon events dead-letters|replay`: notifications that could not be delivered, and
// re-sending them (also delivered ones in a time range: receivers dedupe on eventId).
import type { Command } from 'commander';
import { action, printJson, withStore, parseTime, UsageError } from './context.js';
import { rfc3339 } from '../events/model.js';
import type { Store, Destination } from '../store/port.js';

/** A destination named by its numeric id or as "<configuration-set>/<destination-name>". */
export async function resolveDestination(store: Store, ref: string): Promise<Destination> {
  if (/^\d+$/.test(ref)) {
    const d = await store.getDestinationById(Number(ref));
    if (d) return d;
  } else {
    const slash = ref.indexOf('/');
    if (slash > 0) {
      const list = await store.listDestinations(ref.slice(0, slash));
      const d = list.find((x) => x.name === ref.slice(slash + 1));
      if (d) return d;
    }
  }
  throw new UsageError(`no destination "${ref}" (use its id or <configuration-set>/<name>)`);
}

export function registerEvents(program: Command): void {
  const events = program.command('events').description('notification dead letters and replay');

  events.command('dead-letters')
    .description('notifications given up on (4xx, or retried past the max age)')
    .option('--destination <ref>', 'only this destination (id or set/name)')
    .option('--limit <n>', 'how many', '100')
    .action(action(async (opts: { destination?: string; limit: string }) => {
      await withStore(async (store) => {
        const dest = opts.destination ? await resolveDestination(store, opts.destination) : undefined;
        const rows = await store.listNotifications({ state: 'dead', destinationId: dest?.id }, Number(opts.limit) || 100);
        printJson(rows.map((n) => ({
          eventId: n.eventId, eventType: n.kind, messageId: n.messageId, destinationId: n.destinationId,
          attempts: n.attempts, lastStatus: n.lastStatus, createdAt: rfc3339(n.createdAt),
        })));
      });
    }));

  events.command('replay')
    .description('send again the dead letters of a destination, and with --since also its delivered events in the range')
    .requiredOption('--destination <ref>', 'destination id or set/name')
    .option('--since <time>', 'ISO time or age like 2h')
    .option('--until <time>', 'ISO time or age like 30m')
    .action(action(async (opts: { destination: string; since?: string; until?: string }) => {
      const now = Date.now();
      const since = parseTime('--since', opts.since, now);
      const until = parseTime('--until', opts.until, now);
      await withStore(async (store) => {
        const dest = await resolveDestination(store, opts.destination);
        // A range means "send me everything of that time again"; without one, only dead letters.
        const states: ('dead' | 'delivered')[] = since !== undefined || until !== undefined ? ['dead', 'delivered'] : ['dead'];
        const n = await store.replayNotifications(dest.id, { since, until, states }, now);
        process.stdout.write(`queued ${n} notification(s) for ${dest.configSetName}/${dest.name} again\n`);
      });
    }));
}
