// Test fixture, run as a child process by sqlite-store.test.ts: records opens in a loop
// and reports each batch on stdout only after recordOpens has returned, so the parent
// can SIGKILL it at any moment and check that every reported open is in the file.
import { openSqliteStore } from './index.js';

const [file, messageId, batchArg] = process.argv.slice(2);
if (!file || !messageId) {
  process.stderr.write('usage: crash-writer.fixture.ts <db file> <message id> [batch]\n');
  process.exit(2);
}
const batch = Number(batchArg ?? 10);
const store = openSqliteStore({ file });
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
