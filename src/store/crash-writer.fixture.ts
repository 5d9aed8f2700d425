// Test fixture, run as a child process by the adapters' kill -9 tests (crash-writer.ts):
// records opens of one message in a loop and reports each batch on stdout only after
// recordOpens has returned (committed), so the parent can SIGKILL it at any moment and
// check that every reported open is in the store.
//   sqlite <db file> <message id> <batch>          (one SQLite transaction per batch)
//   sqlite-log <db file> <message id> <batch>      (the server's store: the open log)
//   postgres <url> <schema> <message id> <batch>
import { openSqliteStore } from './sqlite/index.js';
import { openPostgresStore } from './postgres/index.js';
import type { Store } from './port.js';

const args = process.argv.slice(2);
let store: Store;
let rest: string[];
if ((args[0] === 'sqlite' || args[0] === 'sqlite-log') && args.length === 4) {
  store = openSqliteStore({ file: args[1]!, openLog: args[0] === 'sqlite-log' });
  rest = args.slice(2);
} else if (args[0] === 'postgres' && args.length === 5) {
  store = openPostgresStore({ connectionString: args[1]!, schema: args[2]!, poolSize: 2 });
  rest = args.slice(3);
} else {
  process.stderr.write('usage: crash-writer.fixture.ts sqlite|sqlite-log <file> <message id> <batch> | postgres <url> <schema> <message id> <batch>\n');
  process.exit(2);
}
const [messageId, batchArg] = rest as [string, string];
const batch = Number(batchArg);
await store.init();
process.stdout.write('ready\n');
let total = 0;
for (;;) {
  const opens = Array.from({ length: batch }, (_, i) => ({
    messageId, at: 1_700_000_000_000 + total + i, ipAddress: '192.0.2.1', userAgent: 'crash-test',
  }));
  const res = await store.recordOpens(opens);
  total += res.filter((r) => r !== null).length;
  process.stdout.write(`recorded ${total}\n`);
}
