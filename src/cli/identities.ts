// `mailbeacon identities ...`: sending identities (domains or addresses) and their
// default configuration set, the same records the API's /v2/email/identities manages.
import type { Command } from 'commander';
import { action, printJson, withStore, UsageError } from './context.js';
import { StoreConflict } from '../store/port.js';

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function normaliseIdentity(input: string): string {
  const name = input.trim().toLowerCase();
  const at = name.lastIndexOf('@');
  const domain = at >= 0 ? name.slice(at + 1) : name;
  if (!DOMAIN.test(domain) || (at >= 0 && !/^[^\s@]{1,64}$/.test(name.slice(0, at)))) {
    throw new UsageError(`"${input}" is not a domain (example.com) or an address (news@example.com)`);
  }
  return name;
}

export function registerIdentities(program: Command): void {
  const ids = program.command('identities').description('sending identities (domains and addresses)');

  ids.command('add <identity>')
    .description('allow sending from a domain or address')
    .option('--configuration-set <name>', 'default configuration set for mail from it')
    .action(action(async (input: string, opts: { configurationSet?: string }) => {
      const name = normaliseIdentity(input);
      await withStore(async (store) => {
        if (opts.configurationSet && !(await store.getConfigSet(opts.configurationSet))) {
          throw new UsageError(`no configuration set ${opts.configurationSet}`);
        }
        try {
          await store.createIdentity({ name, createdAt: Date.now(), configurationSetName: opts.configurationSet ?? null });
        } catch (e) {
          if (e instanceof StoreConflict) throw new UsageError(`identity ${name} already exists`);
          throw e;
        }
        process.stdout.write(`added ${name}\n`);
      });
    }));

  ids.command('list')
    .description('list identities')
    .action(action(async () => {
      await withStore(async (store) => {
        const out: unknown[] = [];
        let token: string | undefined;
        do {
          const page = await store.listIdentities(100, token);
          out.push(...page.items.map((i) => ({ identity: i.name, configurationSet: i.configurationSetName, createdAt: new Date(i.createdAt).toISOString() })));
          token = page.nextToken ?? undefined;
        } while (token);
        printJson(out);
      });
    }));

  ids.command('remove <identity>')
    .description('stop allowing sending from it')
    .action(action(async (input: string) => {
      const name = normaliseIdentity(input);
      await withStore(async (store) => {
        if (!(await store.deleteIdentity(name))) throw new UsageError(`no identity ${name}`);
        process.stdout.write(`removed ${name}\n`);
      });
    }));
}
