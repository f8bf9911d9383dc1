// `node bench/ab-invoke.ts <checkoutA> <checkoutB> [rounds] [seconds] [connections] [api|gateway]`: warm
// sync invoke, A/B between two checkouts of this repository in one run, through the control API
// (POST /api/functions/{id}/invoke?result=true, the default) or an HTTP route of the gateway (POST /bench). Both platforms run side by side; rounds of
// wrk alternate between them (A B B A A B ...), so drifts in the load other processes put on the
// machine hit both alike. Per round: requests/s, p50, and CPU µs per request of the platform process
// (all its threads, from /proc) and of its sandboxes. Prints per-round rows, then median and best.
import { rmSync } from 'node:fs';
import { spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startCheckout } from './lib/checkout.ts';
import { benchClient } from './lib/api.ts';
import { cpuUs as cpuOf, descendants } from './lib/process-cpu.ts';

const [dirA, dirB] = process.argv.slice(2, 4).map((d) => path.resolve(d));
if (dirA === undefined || dirB === undefined) {
  console.error('usage: node bench/ab-invoke.ts <checkoutA> <checkoutB> [rounds] [seconds] [connections]');
  process.exit(2);
}
const rounds = Number(process.argv[4] ?? 6);
const seconds = Number(process.argv[5] ?? 4);
const connections = Number(process.argv[6] ?? 50);
const plane = process.argv[7] === 'gateway' ? 'gateway' : 'api';
interface Side {
  name: string;
  child: ChildProcess;
  url: string;
  key: string;
  dataDir: string;
  rows: Array<{ rps: number; p50: number; mainUs: number; sandboxUs: number; errors: number }>;
}

async function start(name: string, dir: string): Promise<Side> {
  const { child, url, gatewayUrl, dataDir } = await startCheckout(name, dir, { WARM_POOL_SIZE: '2' });
  const { client, key } = await benchClient(url);
  // The route's handler answers the same body either way: on the gateway the event is the HTTP request.
  const code = 'export const handler = (e) => ({ hello: e.name ?? JSON.parse(e.body ?? "{}").name });';
  const fn = await client.createFunction({ name: 'hello', runtime: 'node', code, maxInstances: 2, concurrency: 32, routes: [{ method: 'POST', path: '/bench' }] });
  await client.invoke({ id: fn.id }, { name: 'warm' });
  const target = plane === 'gateway' ? `${gatewayUrl}/bench` : `${url}/api/functions/${fn.id}/invoke?result=true`;
  return { name, child, url: target, key, dataDir, rows: [] };
}

function round(side: Side, secs: number, record: boolean): void {
  const pid = side.child.pid!;
  const kids0 = descendants(pid);
  const before = new Map([pid, ...kids0].map((p) => [p, cpuOf(p)]));
  const run = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${secs}s`, '--latency', '-H', `authorization: Bearer ${side.key}`, '-s', path.join(import.meta.dirname, 'lib/post.lua'), side.url], { encoding: 'utf8' });
  const after = new Map([pid, ...descendants(pid)].map((p) => [p, cpuOf(p)]));
  if (!record) return;
  const requests = Number(/(\d+) requests in/.exec(run.stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(run.stdout)?.[1] ?? 0);
  if (requests === 0) throw new Error(`${side.name}: wrk failed:\n${run.stdout}${run.stderr}`);
  const m = /\s50%\s+([\d.]+)(us|ms|s)/.exec(run.stdout);
  const p50 = m === null ? NaN : Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  const delta = (p: number) => (after.get(p) ?? 0) - (before.get(p) ?? 0);
  const sandboxUs = [...after.keys()].filter((p) => p !== pid).reduce((a, p) => a + delta(p), 0);
  side.rows.push({ rps: requests / secs, p50, mainUs: delta(pid) / requests, sandboxUs: sandboxUs / requests, errors: non2xx });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const a = await start('A', dirA);
const b = await start('B', dirB);
try {
  round(a, 2, false);
  round(b, 2, false);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [a, b] : [b, a];
    for (const side of order) {
      round(side, seconds, true);
      const row = side.rows.at(-1)!;
      console.log(`round ${r + 1} ${side.name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50.toFixed(2)} ms, platform ${row.mainUs.toFixed(1)} µs/req, sandboxes ${row.sandboxUs.toFixed(1)} µs/req${row.errors ? `, ${row.errors} non-2xx` : ''}`);
    }
  }
  console.log(`\nA = ${dirA}\nB = ${dirB}\n${plane}: ${rounds} rounds × ${seconds} s, ${connections} connections`);
  console.log('| side | req/s median (best) | p50 ms median (best) | platform CPU µs/req median (best) | sandboxes CPU µs/req median | non-2xx |');
  console.log('|---|---|---|---|---|---|');
  for (const side of [a, b]) {
    const rps = side.rows.map((x) => x.rps);
    const p50 = side.rows.map((x) => x.p50);
    const cpu = side.rows.map((x) => x.mainUs);
    console.log(`| ${side.name} | ${median(rps).toFixed(0)} (${Math.max(...rps).toFixed(0)}) | ${median(p50).toFixed(2)} (${Math.min(...p50).toFixed(2)}) | ${median(cpu).toFixed(1)} (${Math.min(...cpu).toFixed(1)}) | ${median(side.rows.map((x) => x.sandboxUs)).toFixed(1)} | ${side.rows.reduce((a, x) => a + x.errors, 0)} |`);
  }
} finally {
  for (const side of [a, b]) {
    const exited = new Promise((r) => side.child.once('exit', r));
    side.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    rmSync(side.dataDir, { recursive: true, force: true });
  }
}
