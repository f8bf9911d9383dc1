import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import FindMyWay from 'find-my-way';
import { freePort, startRawNodeHttp, startSkyscale, type RunningServer } from '../packages/server/test/helpers/server-process.ts';
import { Router } from '../packages/server/src/gateway/router.ts';
import { wrk, type LoadResult } from './lib/wrk.ts';
import { benchClient } from './lib/api.ts';
import { syntheticRoutes } from './lib/synthetic-routes.ts';

const postScript = path.join(import.meta.dirname, 'lib/post.lua');
const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function startGatewayOnly(mode: 'http' | 'fastify'): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'lib/gateway-only.ts'), mode, String(port)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${url}/_skyscale/healthz`).then((r) => r.ok, () => false))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, child, stop: async () => void child.kill('SIGTERM') };
}

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

interface Target {
  name: string;
  url: string;
  /** The server process whose CPU time per request is reported. */
  pid: number;
  headers?: Record<string, string>;
  script?: string;
}

interface Measured extends LoadResult {
  /** Server CPU per request (µs): steadier than req/s on a shared, noisy machine. */
  cpuUs: number;
}

/**
 * Measures the targets in interleaved rounds (the machine's load drifts; interleaving spreads it evenly):
 * req/s is the median round with its latencies, CPU per request is over all rounds.
 */
function measureRounds(targets: Target[], connections: number, seconds: number, rounds = 3): Map<string, Measured> {
  const runs = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  const cpu = new Map<string, number>(targets.map((t) => [t.name, 0]));
  const each = Math.max(2, Math.round(seconds / rounds));
  for (const t of targets) wrk(t.url, { connections, seconds: 1, headers: t.headers, script: t.script });
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const before = cpuMs(t.pid);
      runs.get(t.name)!.push(wrk(t.url, { connections, seconds: each, headers: t.headers, script: t.script }));
      cpu.set(t.name, cpu.get(t.name)! + cpuMs(t.pid) - before);
    }
  }
  const out = new Map<string, Measured>();
  for (const t of targets) {
    const list = [...runs.get(t.name)!].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
    const median = list[Math.floor(list.length / 2)];
    const requests = list.reduce((n, r) => n + r.requests, 0);
    out.set(t.name, { ...median, errors: list.reduce((n, r) => n + r.errors, 0), cpuUs: (cpu.get(t.name)! * 1000) / requests });
  }
  return out;
}

const row = (name: string, r: Measured) => `| ${name} | ${fmt(r.requestsPerSec, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.cpuUs, 1)} | ${r.errors} |`;
const HEADER = ['| benchmark | req/s (median round) | p50 ms | p99 ms | server CPU µs/req | errors |', '|---|---|---|---|---|---|'];

/**
 * The gateway's throughput and latency at `connections` connections, next to a raw node:http server in
 * the same run: first the gateway alone (an instant backend, so only its own overhead: HTTP, routing
 * among 10,001 routes, the event, the response) on node:http and mounted in Fastify; then the real
 * platform, a route to a hello-world JS function next to the same function through the control API.
 */
export async function benchGateway(seconds: number, connections: number): Promise<string[]> {
  const body = JSON.stringify({ hello: 'bench' });
  const lines = [...HEADER];
  const raw = await startRawNodeHttp(body);
  const http = await startGatewayOnly('http');
  const fastify = await startGatewayOnly('fastify');
  let alone: Map<string, Measured>;
  try {
    alone = measureRounds([
      { name: 'raw', url: raw.url, pid: raw.child.pid! },
      { name: 'http', url: `${http.url}/hello`, pid: http.child.pid! },
      { name: 'fastify', url: `${fastify.url}/hello`, pid: fastify.child.pid! },
    ], connections, seconds);
  } finally {
    await Promise.all([raw.stop(), http.stop(), fastify.stop()]);
  }
  const a = (name: string) => alone.get(name)!;
  lines.push(row(`raw node:http, same JSON body (${connections} conn)`, a('raw')));
  lines.push(row('gateway alone on node:http (instant backend, 10,001 routes)', a('http')));
  lines.push(row('gateway alone mounted in Fastify (catch-all route, same handler)', a('fastify')));

  const sky = await startSkyscale({ WARM_POOL_SIZE: '2' });
  let platform: Map<string, Measured>;
  try {
    const { client, key } = await benchClient(sky.url);
    const fn = await client.createFunction({ name: 'hello', runtime: 'node', code: 'export const handler = () => ({ hello: "bench" });', maxInstances: 2, concurrency: 32, routes: [{ method: 'GET', path: '/hello' }, { method: 'POST', path: '/hello' }] });
    const check = await fetch(`${sky.gatewayUrl}/hello`);
    if (check.status !== 200 || (await check.text()) !== body) throw new Error(`the route does not answer as expected: ${check.status}`);
    const skyRaw = await startRawNodeHttp(body);
    const pid = sky.child.pid!;
    try {
      platform = measureRounds([
        { name: 'raw', url: skyRaw.url, pid: skyRaw.child.pid! },
        { name: 'route', url: `${sky.gatewayUrl}/hello`, pid },
        { name: 'routePost', url: `${sky.gatewayUrl}/hello`, pid, script: postScript },
        { name: 'api', url: `${sky.url}/api/functions/${fn.id}/invoke?result=true`, pid, headers: { authorization: `Bearer ${key}` }, script: postScript },
      ], connections, seconds);
    } finally {
      await skyRaw.stop();
    }
  } finally {
    await sky.stop();
  }
  const p = (name: string) => platform.get(name)!;
  lines.push(row(`raw node:http, next to the running platform (${connections} conn)`, p('raw')));
  lines.push(row('gateway route GET /hello → node hello world', p('route')));
  lines.push(row('gateway route POST /hello (JSON body) → node hello world', p('routePost')));
  lines.push(row('control API POST /api/functions/{id}/invoke?result=true, same function', p('api')));
  lines.push('');
  lines.push('Server CPU is the platform process alone (the function runs in its own sandboxed process).');
  lines.push('');
  lines.push(`- Gateway alone ÷ raw node:http: **${fmt(a('http').requestsPerSec / a('raw').requestsPerSec)}** on node:http, **${fmt(a('fastify').requestsPerSec / a('raw').requestsPerSec)}** mounted in Fastify; its own cost ≈ **${fmt(a('http').cpuUs - a('raw').cpuUs, 1)} µs CPU per request** over raw`);
  lines.push(`- Route to a function ÷ raw node:http: **${fmt(p('route').requestsPerSec / p('raw').requestsPerSec)}** (GET), **${fmt(p('routePost').requestsPerSec / p('raw').requestsPerSec)}** (POST)`);
  lines.push(`- Route ÷ the same function through the control API (both POST, same body): **${fmt(p('routePost').requestsPerSec / p('api').requestsPerSec)}** req/s; platform CPU per request ${fmt(p('routePost').cpuUs, 1)} vs ${fmt(p('api').cpuUs, 1)} µs`);
  return lines;
}

function best(rounds: number, run: () => number): number {
  let min = Infinity;
  for (let i = 0; i < rounds; i++) min = Math.min(min, run());
  return min;
}

/** Routing-table build time and lookup cost with `count` routes: Skyscale's trie next to find-my-way. */
export async function benchRouter(count = 10_000): Promise<string[]> {
  const { routes, requests } = syntheticRoutes(count);
  const lookups = 1_000_000;
  const buildOwn = best(5, () => {
    const t = performance.now();
    new Router(routes);
    return performance.now() - t;
  });
  const buildFmw = best(3, () => {
    const t = performance.now();
    const f = FindMyWay();
    for (const route of routes) f.on(route.method as 'GET', route.path, () => {});
    return performance.now() - t;
  });
  const own = new Router(routes);
  const fmw = FindMyWay();
  for (const route of routes) fmw.on(route.method as 'GET', route.path, () => {});
  const methods = requests.map((q) => q.method);
  const paths = requests.map((q) => q.path);
  const perLookup = (find: (method: string, path: string) => boolean) => best(5, () => {
    const t = performance.now();
    let hits = 0;
    for (let i = 0; i < lookups; i++) if (find(methods[i % count], paths[i % count])) hits++;
    if (hits !== lookups) throw new Error(`only ${hits} of ${lookups} lookups matched`);
    return ((performance.now() - t) * 1e6) / lookups;
  });
  const ownNs = perLookup((m, p) => own.find(m, p).kind === 'match');
  const fmwNs = perLookup((m, p) => fmw.find(m as 'GET', p) !== null);
  const missNs = best(5, () => {
    const t = performance.now();
    for (let i = 0; i < lookups; i++) if (own.find('GET', `/nothing/${i % 100}`).kind === 'match') throw new Error('matched');
    return ((performance.now() - t) * 1e6) / lookups;
  });
  return [
    `| router (${count} routes: static, 1 param, 2 params, wildcard) | build ms | ns per lookup (hit, params extracted) | ns per miss (404, with the 405 check) |`,
    '|---|---|---|---|',
    `| Skyscale segment trie (gateway/router.ts) | ${fmt(buildOwn, 1)} | ${fmt(ownNs, 0)} | ${fmt(missNs, 0)} |`,
    `| find-my-way (Fastify's router) | ${fmt(buildFmw, 1)} | ${fmt(fmwNs, 0)} | |`,
    '',
    `Best of 5 rounds of ${lookups.toLocaleString('en')} lookups cycling through all ${count} routes; build is best of 5 (trie) / 3 (find-my-way).`,
  ];
}
