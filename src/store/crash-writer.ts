// Runs crash-writer.fixture.ts in a child process and kills it with SIGKILL once it has
// reported at least `killAfter` committed opens, while it is busy with the next batch.
// Returns how many opens it reported and how it ended, for the adapters' kill -9 tests.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

export async function killWriterMidStream(fixtureArgs: string[], killAfter: number, timeoutMs: number):
  Promise<{ reported: number; ended: NodeJS.Signals | number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'crash-writer.fixture.ts'), ...fixtureArgs],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const ended = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, sig) => resolve(sig ?? code)));
  let reported = 0;
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child made no progress; stderr: ${stderr}`)); }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const m = /^recorded (\d+)$/.exec(line);
        if (m) reported = Number(m[1]);
      }
      if (reported >= killAfter && !child.killed) {
        child.kill('SIGKILL');
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => { clearTimeout(timer); resolve(); });
  });
  return { reported, ended: await ended };
}
