// Test fixture, run as a child process by postgres-store.test.ts: records opens in a loop
// and reports each batch on stdout only after recordOpens has returned (committed), so the
// parent can SIGKILL it mid-transaction and check every reported open is in the database.
import { openPostgresStore } from './index.js';

const [url, schema, messageId, batchArg] = process.argv.slice(2);
if (!url || !schema || !messageId) {
  process.stderr.write('usage: crash-writer.fixture.ts <postgres url> <schema> <message id> [batch]\n');
  process.exit(2);
}
const batch = Number(batchArg ?? 10);
const store = openPostgresStore({ connectionString: url, schema, poolSize: 2 });
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
