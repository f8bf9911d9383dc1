// Distributed mode against the embedded mode, in one run on one machine (issue 12): async throughput,
// sync latency through NATS request/reply, how long a dead worker stays in placement, and how fast the
// autoscaler answers a burst. PostgreSQL and nats-server are started by the test helpers.
import type { SkyscaleClient } from '../packages/client/src/index.ts';
import { clusterSkip, startCluster, type TestCluster } from '../packages/server/test/helpers/cluster.ts';
import { startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { benchClient, median, percentile } from './lib/api.ts';

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const HELLO = 'export const handler = async (e) => ({ ok: true, n: e.n ?? 0 });';

async function asyncThroughput(client: SkyscaleClient, count: number): Promise<{ accepted: number; total: number }> {
  const fn = await client.createFunction({ name: `async-${Date.now()}`, runtime: 'node', code: HELLO, maxInstances: 4, concurrency: 4 });
  await client.invoke({ id: fn.id }, {});
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) ids.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => client.invokeAsync({ id: fn.id }, {})))).map((q) => q.id));
  const accepted = performance.now() - t0;
  for (;;) {
    const [queued, running] = await Promise.all([client.listExecutions({ functionId: fn.id, status: 'queued', limit: 1 }), client.listExecutions({ functionId: fn.id, status: 'running', limit: 1 })]);
    if (queued.items.length === 0 && running.items.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const total = performance.now() - t0;
  const failed = await client.listExecutions({ functionId: fn.id, status: 'failed', limit: 1 });
  if (failed.items.length > 0) throw new Error('some async executions failed');
  return { accepted: count / (accepted / 1000), total: count / (total / 1000) };
}

async function syncLatency(client: SkyscaleClient, count: number): Promise<{ p50: number; p99: number }> {
  const fn = await client.createFunction({ name: `sync-${Date.now()}`, runtime: 'node', code: HELLO });
  for (let i = 0; i < 20; i++) await client.invoke({ id: fn.id }, { n: i });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const e = await client.invoke({ id: fn.id }, { n: i });
    times.push(performance.now() - t);
    if (e.status !== 'succeeded') throw new Error(`sync invoke ended ${e.status}`);
  }
  return { p50: median(times), p99: percentile(times, 99) };
}

async function readyWorkers(client: SkyscaleClient): Promise<string[]> {
  return (await client.listWorkers()).filter((w) => w.state === 'ready' && w.roles.includes('worker')).map((w) => w.id);
}

export async function benchDistributed(asyncCount = 1000, syncCount = 500): Promise<string[]> {
  if (clusterSkip) return [`skipped: ${clusterSkip}`];
  const lines: string[] = [];
  // Embedded: every role in one process on SQLite.
  const embedded = await startSkyscale({ WARM_POOL_SIZE: '2', ASYNC_CONCURRENCY: '16' });
  let embeddedAsync;
  let embeddedSync;
  try {
    const { client } = await benchClient(embedded.url);
    embeddedAsync = await asyncThroughput(client, asyncCount);
    embeddedSync = await syncLatency(client, syncCount);
  } finally {
    await embedded.stop();
  }
  // Distributed: 1 control (+gateway), 2 workers, PostgreSQL, NATS; 8 slots per worker = the embedded 16.
  const cluster: TestCluster = await startCluster({ WARM_POOL_SIZE: '2', MAX_CONCURRENT_EXECUTIONS: '8', HEARTBEAT_INTERVAL_MS: '1000', LOG_LEVEL: 'error' });
  try {
    const control = await cluster.start('control', 'control,gateway');
    const { client, key } = await benchClient(control.url!);
    const workers = [await cluster.start('w1', 'worker'), await cluster.start('w2', 'worker')];
    await cluster.waitForWorkers(control.url!, key, 2);
    const distAsync = await asyncThroughput(client, asyncCount);
    const distSync = await syncLatency(client, syncCount);
    lines.push(
      `| ${asyncCount} async executions (node, trivial) | accepted (202) per s | end-to-end per s |`, '|---|---|---|',
      `| embedded (1 process, SQLite, ASYNC_CONCURRENCY 16) | ${fmt(embeddedAsync.accepted, 0)} | ${fmt(embeddedAsync.total, 0)} |`,
      `| 1 control + 2 workers (PostgreSQL, NATS, 8 slots each) | ${fmt(distAsync.accepted, 0)} | ${fmt(distAsync.total, 0)} |`,
      '', `Ratio end-to-end distributed ÷ embedded: **${fmt(distAsync.total / embeddedAsync.total, 2)}**`, '',
      `| ${syncCount} sequential sync invocations | p50 ms | p99 ms |`, '|---|---|---|',
      `| embedded (in-process invoker) | ${fmt(embeddedSync.p50, 2)} | ${fmt(embeddedSync.p99, 2)} |`,
      `| distributed (NATS request/reply to a worker) | ${fmt(distSync.p50, 2)} | ${fmt(distSync.p99, 2)} |`,
      '', `Ratio p50 distributed ÷ embedded: **${fmt(distSync.p50 / embeddedSync.p50, 2)}**`, '',
    );
    // A dead worker: kill -9, then how long until the registry says lost (out of placement).
    const killedAt = performance.now();
    workers[1].kill('SIGKILL');
    while ((await readyWorkers(client)).includes('w2')) await new Promise((r) => setTimeout(r, 20));
    const leftMs = performance.now() - killedAt;
    lines.push(`Dead worker out of placement (kill -9, HEARTBEAT_INTERVAL_MS 1000, lost after 3 missed): **${fmt(leftMs, 0)} ms**`, '');
  } finally {
    await cluster.dispose();
  }
  // The autoscaler: local worker processes, a burst of 300.
  const scaled = await startCluster({ AUTOSCALER_ACTUATOR: 'local', MIN_WORKERS: '1', MAX_WORKERS: '3', SCALE_UP_THRESHOLD: '3', SCALE_DOWN_THRESHOLD: '1', CHECK_INTERVAL: '1s', COOLDOWN_PERIOD: '5s', MAX_CONCURRENT_EXECUTIONS: '4', WARM_POOL_SIZE: '0', LOG_LEVEL: 'error' });
  try {
    const control = await scaled.start('scaler', 'control,gateway', { WORKER_ID: 'local' });
    const { client } = await benchClient(control.url!);
    while ((await readyWorkers(client)).length < 1) await new Promise((r) => setTimeout(r, 50));
    const fn = await client.createFunction({ name: 'work', runtime: 'node', code: 'export const handler = async () => { await new Promise((r) => setTimeout(r, 100)); return 1; };' });
    // The start-up's clamp to MIN_WORKERS began a cooldown: let it pass, so the figure is the reaction alone.
    await new Promise((r) => setTimeout(r, 5_000));
    const t0 = performance.now();
    for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, () => client.invokeAsync({ id: fn.id }, {})));
    let firstUp: number | undefined;
    let atMax: number | undefined;
    while (atMax === undefined && performance.now() - t0 < 120_000) {
      const n = (await readyWorkers(client)).length;
      if (n > 1) firstUp ??= performance.now() - t0;
      if (n >= 3) atMax = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 20));
    }
    lines.push(`Autoscaler (CHECK_INTERVAL 1s, local actuator, burst of 300): first new worker ready **${fmt(firstUp ?? NaN, 0)} ms** after the burst began (a tick, then a worker process's start: Node, its bus and store connections, its first heartbeat), MAX_WORKERS (3) ready **${fmt(atMax ?? NaN, 0)} ms**`);
  } finally {
    await scaled.dispose();
  }
  return lines;
}
