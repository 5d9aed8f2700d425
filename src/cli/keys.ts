// `mailbeacon keys ...`: API access keys (SigV4) and the SMTP passwords derived from them,
// and rotation of the tracking (pixel token) keys. Secrets are printed only by `create`
// and `smtp-password`, on stdout, never logged.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { action, printJson, withStore, UsageError } from './context.js';
import { loadConfig } from '../config.js';
import { TrackingKeys } from '../tracking/tokens.js';
import { sesSmtpPassword } from '../smtp/index.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 20 characters like an AWS access key id ("MB" + 18 random base32 characters). */
export function newAccessKeyId(): string {
  const bytes = randomBytes(18);
  let id = 'MB';
  for (const b of bytes) id += ALPHABET[b & 31];
  return id;
}

/** 40 characters of base64 from 30 random bytes, like an AWS secret access key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API access keys, SMTP passwords, tracking keys');

  keys.command('create')
    .description('create an access key; prints {"accessKeyId","secretAccessKey"}')
    .option('--name <name>', 'a label for the key', 'default')
    .action(action(async (opts: { name: string }) => {
      await withStore(async (store) => {
        const key = { id: newAccessKeyId(), secret: newSecretAccessKey(), name: opts.name, createdAt: Date.now(), revokedAt: null };
        await store.createAccessKey(key);
        printJson({ accessKeyId: key.id, secretAccessKey: key.secret });
      });
    }));

  keys.command('list')
    .description('list access keys (without secrets)')
    .action(action(async () => {
      await withStore(async (store) => {
        const all = await store.listAccessKeys();
        printJson(all.map((k) => ({
          accessKeyId: k.id, name: k.name, createdAt: new Date(k.createdAt).toISOString(),
          status: k.revokedAt ? 'revoked' : 'active',
          ...(k.revokedAt ? { revokedAt: new Date(k.revokedAt).toISOString() } : {}),
        })));
      });
    }));

  keys.command('revoke <accessKeyId>')
    .description('revoke an access key (API and SMTP)')
    .action(action(async (id: string) => {
      await withStore(async (store) => {
        if (!(await store.revokeAccessKey(id, Date.now()))) throw new UsageError(`no access key ${id}`);
        process.stdout.write(`revoked ${id}\n`);
      });
    }));

  keys.command('smtp-password <accessKeyId>')
    .description('print the SES-style SMTP password derived from the key (username = access key id)')
    .option('--region <region>', 'region of the derivation (one of MAILBEACON_SMTP_REGIONS)')
    .action(action(async (id: string, opts: { region?: string }) => {
      await withStore(async (store, config) => {
        const key = await store.getAccessKey(id);
        if (!key || key.revokedAt) throw new UsageError(`no active access key ${id}`);
        const region = opts.region ?? config.smtpRegions[0]!;
        if (!config.smtpRegions.includes(region)) throw new UsageError(`region ${region} is not in MAILBEACON_SMTP_REGIONS (${config.smtpRegions.join(', ')})`);
        printJson({ username: key.id, password: sesSmtpPassword(key.secret, region), region });
      });
    }));

  keys.command('rotate-tracking')
    .description('start signing pixel tokens with a new key; older keys keep verifying')
    .action(action(async () => {
      const config = loadConfig();
      const tk = TrackingKeys.loadOrCreate(config.dataDir);
      const { newKeyId } = tk.rotate();
      process.stdout.write(`tracking key ${newKeyId} now signs new pixels; earlier keys still verify (running servers pick it up within seconds)\n`);
    }));
}
