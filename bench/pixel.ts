// bench:pixel — the pixel server with durable recording against a bare node:http server
// answering the same GIF, in one run, loaded over loopback by the same autocannon client.
// Each server runs in its own child process (one core for it, one for the client on a 2-core
// box); prints requests/s, p50/p99 latency, server CPU per request and the ratio to bare as a
// markdown table, then checks that the store holds exactly one open per 2xx answer.
// Usage: npm run bench:pixel   (BENCH_SECONDS=1 BENCH_ROUNDS=15 BENCH_CONNECTIONS=50 to change the load;
//        BENCH_ONLY=store for the store-cost lines alone)
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { DestinationSnapshot } from '../src/store/port.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { GIF_HEADERS, PIXEL_GIF } from '../src/tracking/gif.js';
import { createTrackingServer, TrackingKeys } from '../src/tracking/index.js';

const SELF = fileURLToPath(import.meta.url);
/** Length of one run, as a request count fixed from the bare server's warm-up rate. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const WARMUP_SECONDS = 3;
/** BENCH_ONLY=store: only the store-cost lines (quick, no HTTP load). */
const STORE_ONLY = process.env.BENCH_ONLY === 'store';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MESSAGES = 500;
const DISTINCT_PATHS = 500;

type Kind = 'bare' | 'pixel' | 'no-store';
interface Scenario { name: string; kind: Kind; synchronous?: 'NORMAL' | 'FULL' }
interface ServeArgs { kind: Kind; dir?: string; synchronous?: 'NORMAL' | 'FULL' }
type FromChild = { port: number } | { cpuMicros: number } | { metrics: Record<string, number>; cpuMicros: number };

// ---------------------------------------------------------------- child: one server
async function serve(args: ServeArgs): Promise<void> {
  let server: http.Server;
  let metrics: () => Record<string, number> = () => ({});
  let close: () => Promise<void>;
  if (args.kind === 'bare') {
    server = http.createServer((_req, res) => {
      res.writeHead(200, GIF_HEADERS as string[]);
      res.end(PIXEL_GIF);
    });
    close = () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); });
  } else {
    // As server.ts opens it: WAL checkpoints on a background thread, opens to the open log.
    const store = openSqliteStore({ file: path.join(args.dir!, 'mailbeacon.db'), synchronous: args.synchronous, backgroundCheckpoints: true, openLog: true });
    await store.init();
    if (args.kind === 'no-store') {
      // Attribution only: the whole handler and group commit, with a commit that writes
      // nothing, so the table separates our HTTP/token cost from the store's write cost.
      Object.defineProperty(store, 'recordOpens', { value: async (opens: unknown[]) => opens.map((_, i) => i + 1) });
    }
    const t = createTrackingServer({
      store, keys: TrackingKeys.loadOrCreate(args.dir!), config: { trustedProxies: [] },
    });
    server = t.server;
    metrics = () => ({ ...t.metrics() });
    close = async () => { await t.close(); await store.close(); };
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const send = (m: FromChild) => process.send!(m);
  process.on('message', (msg: string) => {
    if (msg === 'cpu') send({ cpuMicros: cpuMicros() });
    if (msg === 'stop') {
      const cpu = cpuMicros();
      void close().then(() => {
        send({ metrics: metrics(), cpuMicros: cpu });
        process.disconnect();
      });
    }
  });
  send({ port: (server.address() as AddressInfo).port });
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

// ---------------------------------------------------------------- parent: load and report
class Child {
  private waiting: ((m: FromChild) => void)[] = [];
  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: FromChild) => this.waiting.shift()?.(m));
  }
  static start(args: ServeArgs): Promise<{ child: Child; port: number }> {
    const child = new Child(fork(SELF, ['--serve', JSON.stringify(args)], { stdio: 'inherit' }));
    return child.next().then((m) => {
      pin(child.proc.pid!, SERVER_CPU);
      return { child, port: (m as { port: number }).port };
    });
  }
  next(): Promise<FromChild> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`server child exited (${code})`));
      this.proc.once('exit', onExit);
      this.waiting.push((m) => {
        this.proc.off('exit', onExit);
        resolve(m);
      });
    });
  }
  async cpu(): Promise<number> {
    const p = this.next();
    this.proc.send('cpu');
    return ((await p) as { cpuMicros: number }).cpuMicros;
  }
  async stop(): Promise<{ metrics: Record<string, number>; cpuMicros: number }> {
    const p = this.next();
    this.proc.send('stop');
    return (await p) as { metrics: Record<string, number>; cpuMicros: number };
  }
}

async function prepareStore(dir: string, synchronous: 'NORMAL' | 'FULL', messages = MESSAGES): Promise<{ ids: string[]; paths: string[] }> {
  const store = openSqliteStore({ file: path.join(dir, 'mailbeacon.db'), synchronous });
  await store.init();
  await store.createConfigSet({ name: 'bench', createdAt: Date.now(), options: {} });
  const snapshot: DestinationSnapshot[] = [];
  for (const [name, types] of [['hook', ['OPEN', 'SEND']], ['stream', ['OPEN']]] as const) {
    const d = await store.createDestination({
      configSetName: 'bench', name, enabled: true, matchingEventTypes: [...types], kind: 'webhook',
      settings: { Url: 'http://127.0.0.1:9/' }, disabledReason: null, createdAt: Date.now(),
    });
    snapshot.push({ destinationId: d.id, eventTypes: d.matchingEventTypes });
  }
  const ids: string[] = [];
  for (let i = 0; i < messages; i++) {
    const id = randomUUID();
    await store.acceptMessage({
      id, acceptedAt: Date.now(), identity: 'example.com', mailFrom: 'bench@example.com', configSetName: 'bench',
      recipients: [`r${i}@example.net`], tracked: true, injectOutcome: 'injected',
      mail: { messageId: id, source: 'bench@example.com', destination: [`r${i}@example.net`] },
      raw: Buffer.from('Subject: bench\r\n\r\nx\r\n'), deliveryOptions: {},
    }, snapshot, []);
    ids.push(id);
  }
  await store.close();
  const keys = TrackingKeys.loadOrCreate(dir);
  const paths = ids.slice(0, DISTINCT_PATHS).map((id) => `/p/${keys.sign(id)}.gif`);
  return { ids, paths };
}

interface Load { ok: number; other: number; seconds: number; rps: number; p50: number; p99: number; clientCpu: number; serverCpuPerReq: number }

async function load(child: Child, port: number, paths: string[], opts: { amount?: number; duration?: number }): Promise<Load> {
  const cpu0 = await child.cpu();
  const me0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, pipelining: 1,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? 1 }),
    requests: paths.map((p) => ({ method: 'GET' as const, path: p })),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const me = process.cpuUsage(me0);
  const cpu1 = await child.cpu();
  const ok = r['2xx'];
  return {
    ok, other: r.non2xx + r.errors + r.timeouts, seconds, rps: ok / seconds,
    p50: r.latency.p50, p99: r.latency.p99,
    clientCpu: (me.user + me.system) / 1e6 / seconds,
    serverCpuPerReq: (cpu1 - cpu0) / Math.max(1, r.requests.total),
  };
}

/** The core every server runs on; the client (this process) runs on CLIENT_CPU. */
const SERVER_CPU = 1;
const CLIENT_CPU = 0;
/** Every process got its binding (the report says when not). */
let pinned = os.cpus().length >= 2;

/**
 * Binds every thread of a process to one core (taskset -a; threads made later inherit it),
 * so that in every run the server has a core of its own and the client the other, rather
 * than whatever the scheduler picks for a loopback ping-pong pair. It does not take away the
 * two throughput levels this machine shows from one run to the next (README, Numbers).
 */
function pin(pid: number, cpu: number): void {
  if (!pinned) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    pinned = false; // no taskset: runs are still paired (the report says so)
  }
}

/** Flushes the page cache's dirty pages, so the previous run's writeback (its WAL, its
 *  durability check's fan-out) does not land on the CPU during the next run. */
function settle(): void {
  try {
    execFileSync('sync');
  } catch {
    /* no sync(1): the runs are still paired, only noisier */
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  if (STORE_ONLY) return storeOnly();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-bench-pixel-'));
  const scenarios: Scenario[] = [
    { name: 'bare node:http GIF (baseline)', kind: 'bare' },
    { name: 'mailbeacon pixel (default: SQLite WAL, synchronous=NORMAL)', kind: 'pixel', synchronous: 'NORMAL' },
    { name: 'mailbeacon pixel, synchronous=FULL (fdatasync per batch)', kind: 'pixel', synchronous: 'FULL' },
    { name: 'mailbeacon pixel handler, commit writes nothing (attribution, NOT durable)', kind: 'no-store', synchronous: 'NORMAL' },
  ];
  // Every server runs for the whole bench; the load goes to them in turn, in short runs, in
  // an order rotated by the round, and each ratio is taken against the bare run of the SAME
  // round. On this kind of shared box the same bare server jumps between levels about 2x apart
  // from one 1-s run to the next (README, Numbers), so only runs close together in time are
  // compared, and the table shows the median over many rounds and the range.
  const bareKeys = TrackingKeys.inMemory();
  const bareLoad = Array.from({ length: DISTINCT_PATHS }, () => `/p/${bareKeys.sign(randomUUID())}.gif`);
  const runs = scenarios.map(() => [] as Load[]);
  const metricsOf: Record<string, number>[] = scenarios.map(() => ({}));
  let allDurable = true;
  const checks: string[] = [];
  const storeLines: string[] = [];
  const started = Date.now();
  pin(process.pid, CLIENT_CPU);
  const loadBefore = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const servers: { child: Child; port: number; paths: string[]; ids: string[]; dir: string; answered: number; stopped: boolean }[] = [];
  let amount = 0;
  try {
    for (const [i, s] of scenarios.entries()) {
      const dir = path.join(root, `s${i}`);
      fs.mkdirSync(dir);
      // The bare server gets requests of the same shape (500 distinct token paths of the
      // same length) so that the client's and the HTTP parser's work is the same in every run.
      let paths = bareLoad;
      let ids: string[] = [];
      if (s.kind !== 'bare') ({ ids, paths } = await prepareStore(dir, s.synchronous!));
      const { child, port } = await Child.start({ kind: s.kind, dir, synchronous: s.synchronous });
      servers.push({ child, port, paths, ids, dir, answered: 0, stopped: false });
    }
    // A fresh process is slow for its first seconds of load while the JIT settles: each server
    // gets a warm-up of about WARMUP_SECONDS. The bare one's (timed) warm-up sets a fixed
    // request count for every later load, so each one finishes every request it starts and the
    // 2xx count is exact: a timed load stops with requests in flight that the server may have
    // answered (and recorded) but the client does not count.
    for (const srv of servers) {
      settle();
      const warm = await load(srv.child, srv.port, srv.paths, amount === 0 ? { duration: WARMUP_SECONDS } : { amount: Math.round(amount * WARMUP_SECONDS / SECONDS) });
      srv.answered += warm.ok;
      if (amount === 0) amount = Math.max(5_000, Math.round(warm.rps * SECONDS / 1000) * 1000);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < scenarios.length; k++) {
        const i = (k + round) % scenarios.length;
        const srv = servers[i]!;
        settle();
        const run = await load(srv.child, srv.port, srv.paths, { amount });
        srv.answered += run.ok;
        runs[i]!.push(run);
        if (run.other > 0) checks.push(`round ${round + 1}, ${scenarios[i]!.name}: ${run.other} non-2xx/errors/timeouts`);
      }
    }
    for (const [i, s] of scenarios.entries()) {
      const srv = servers[i]!;
      const { metrics } = await srv.child.stop();
      srv.stopped = true;
      metricsOf[i] = metrics;
      if (s.kind !== 'pixel') continue;
      const store = openSqliteStore({ file: path.join(srv.dir, 'mailbeacon.db') });
      await store.init();
      let recorded = 0;
      for (const id of srv.ids) recorded += (await store.getMessage(id))!.openCount;
      const counts = await store.counts();
      await store.close();
      const answered = srv.answered;
      const ok = recorded === answered && counts.events === answered && counts.notificationsPending === 2 * answered && metrics.opens === answered;
      if (!ok) allDurable = false;
      checks.push(`${s.name}: ${answered} answered 2xx, ${recorded} opens recorded, ${counts.events} Open events, ${counts.notificationsPending} pending notifications (2 per open) -> ${ok ? 'OK' : 'MISMATCH'}`);
    }
    settle();
    storeLines.push(...await storeCost(path.join(root, 'store-cost'), true), ...await storeCost(path.join(root, 'store-cost-tx'), false));
  } finally {
    for (const srv of servers) if (!srv.stopped) srv.child.proc.kill();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const bare = runs[0]!;
  const range = (xs: number[]): string => `${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)}`;
  const rows = scenarios.map((s, i) => {
    const rs = runs[i]!;
    const metrics = metricsOf[i]!;
    const ratios = rs.map((r, round) => r.rps / bare[round]!.rps);
    // Requests per server-CPU-second relative to bare: what the ratio would be with the
    // server core saturated.
    const cpuRatios = rs.map((r, round) => bare[round]!.serverCpuPerReq / r.serverCpuPerReq);
    const commits = s.kind !== 'bare' ? `${fmt((metrics.opens ?? 0) / Math.max(1, metrics.batches ?? 0), 1)} (max ${metrics.largestBatch ?? 0})` : '-';
    const m = (f: (l: Load) => number): number => median(rs.map(f));
    return `| ${s.name} | ${fmt(m((l) => l.rps), 0)} | ${fmt(m((l) => l.p50), 1)} | ${fmt(m((l) => l.p99), 1)} | ${fmt(m((l) => l.serverCpuPerReq), 1)} | ${fmt(m((l) => l.clientCpu) * 100, 0)} % | **${fmt(median(ratios), 2)}** (${range(ratios)}) | ${fmt(median(cpuRatios), 2)} (${range(cpuRatios)}) | ${commits} |`;
  });
  const perRound = scenarios.map((s, i) => `- ${s.name}: ${runs[i]!.map((r) => fmt(r.rps, 0)).join(', ')} req/s`);
  const out = [
    `## bench:pixel — ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
    `autocannon in the parent process, ${CONNECTIONS} connections, ${amount} requests per run (about ${SECONDS} s of the bare server) after a ${WARMUP_SECONDS} s warm-up of each server; each server in its own process, all started before the first run;`,
    `${ROUNDS} rounds, each running every server once (order rotated per round). ${pinned ? `Client bound to core ${CLIENT_CPU}, every server (all its threads) to core ${SERVER_CPU} (taskset).` : 'Processes NOT bound to cores (taskset missing or refused).'} Load average before the run: ${loadBefore}.`,
    'Each figure is the median over the rounds; each ratio is to the bare server of the same round, median and (range).',
    '"client CPU" is autocannon\'s share of one core. Server CPU counts every thread of the server process.',
    '',
    '| server | req/s | p50 ms | p99 ms | server CPU µs/req | client CPU | ratio to bare (req/s) | ratio to bare (per server CPU) | opens per commit |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
    'req/s of each round:',
    ...perRound,
    '',
    ...checks.map((c) => `- ${c}`),
    '',
    `### where the time goes: store.recordOpens alone, in this process, batches of 32 (${STORE_ONLY_HINT})`,
    '',
    ...storeLines,
    '',
    `every open durable before its 200: ${allDurable ? 'yes' : 'NO'}; total time ${fmt((Date.now() - started) / 1000, 1)} s`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  if (!allDurable) process.exitCode = 1;
}

const STORE_ONLY_HINT = 'alone: BENCH_ONLY=store npm run bench:pixel';

async function storeOnly(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-bench-store-'));
  try {
    const lines = [...await storeCost(path.join(root, 'store-cost'), true), ...await storeCost(path.join(root, 'store-cost-tx'), false)];
    process.stdout.write(['### store.recordOpens alone, batches of 32', '', ...lines, ''].join('\n'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** A desktop browser's User-Agent, the size most opens carry (the load test sends none). */
const BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const STORE_ROUNDS = 20;
const REPEAT_MESSAGES = 500;
const FIRST_GROUPS = 16;
const FIRST_GROUP = 256;

/** Cost per open of the store write alone, the store opened as the server opens it (openLog)
 *  or, for comparison, committing each batch in a SQLite transaction (as before the log). */
async function storeCost(dir: string, openLog: boolean): Promise<string[]> {
  fs.mkdirSync(dir);
  const lines: string[] = [openLog ? '- **as the server writes opens: one frame appended to the open log per batch**' : '- for comparison, one SQLite transaction per batch (the store without the open log):'];
  const { ids } = await prepareStore(dir, 'NORMAL', REPEAT_MESSAGES + FIRST_GROUPS * FIRST_GROUP);
  const store = openSqliteStore({ file: path.join(dir, 'mailbeacon.db'), backgroundCheckpoints: true, openLog });
  await store.init();
  try {
    // Repeat opens on REPEAT_MESSAGES messages (the first round also warms the JIT, so it is
    // not counted), then first opens, in groups, on the others: their last seq is read from
    // the events table. CPU time, not wall time: on a shared box the wall clock mostly measures the
    // neighbours; medians keep out a slow moment (a GC, a checkpoint).
    const record = async (batchIds: string[]): Promise<number> => {
      const c0 = process.cpuUsage();
      for (let i = 0; i < batchIds.length; i += 32) {
        await store.recordOpens(batchIds.slice(i, i + 32).map((messageId) => ({ messageId, at: Date.now(), ipAddress: '192.0.2.1', userAgent: BROWSER_UA })));
      }
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / batchIds.length;
    };
    const repeat: number[] = [];
    for (let round = 0; round <= STORE_ROUNDS; round++) {
      const us = await record(ids.slice(0, REPEAT_MESSAGES));
      if (round > 0) repeat.push(us);
    }
    const first: number[] = [];
    for (let g = 0; g < FIRST_GROUPS; g++) {
      const from = REPEAT_MESSAGES + g * FIRST_GROUP;
      first.push(await record(ids.slice(from, from + FIRST_GROUP)));
    }
    lines.push(`  - first open of a message: ${fmt(median(first), 1)} µs CPU per open (written before the 200; median of ${FIRST_GROUPS} groups of ${FIRST_GROUP} messages)`);
    lines.push(`  - repeat opens: ${fmt(median(repeat), 1)} µs CPU per open (median of ${STORE_ROUNDS} rounds over ${REPEAT_MESSAGES} messages)`);
    // The events and notification rows of those opens, made afterwards by the fan-out (any
    // read of notifications runs it; the dispatcher's claims do in production).
    const f0 = process.cpuUsage();
    const counts = await store.counts();
    const f = process.cpuUsage(f0);
    lines.push(`  - fan-out of those ${counts.events} opens into events and ${counts.notificationsPending} notification rows afterwards: ${fmt((f.user + f.system) / (counts.events ?? 1), 1)} µs CPU per open`);
  } finally {
    await store.close();
  }
  return lines;
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

if (process.argv[2] === '--serve') {
  serve(JSON.parse(process.argv[3]!) as ServeArgs).catch((e: unknown) => {
    process.stderr.write(`bench server failed: ${(e as Error).message}\n`);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`bench:pixel failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
