// `npm run bench -- gateway`: the routing table with 10,000 routes, the gateway's own overhead next to a raw
// node:http server, a route to a hello-world function next to the same raw server (the ratio is the figure),
// CPU per request by process, and a V8 profile of the platform under the route's load (where the time goes).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import FindMyWay from 'find-my-way';
import { freePort, startRawNodeHttp, startSkyscale, type RunningServer } from '../packages/server/test/helpers/server-process.ts';
import { Router } from '../packages/server/src/gateway/router.ts';
import { wrk, type LoadResult } from './lib/wrk.ts';
import { benchClient } from './lib/api.ts';
import { syntheticRoutes } from './lib/synthetic-routes.ts';
import { measureCpu, type CpuSplit } from './lib/process-cpu.ts';
import { profileSpanMs, summariseProfile } from './lib/profile-summary.ts';

const postScript = path.join(import.meta.dirname, 'lib/post.lua');
const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const HELLO = 'export const handler = () => ({ hello: "bench" });';
const BODY = JSON.stringify({ hello: 'bench' });

async function startGatewayOnly(mode: 'http' | 'fastify'): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'lib/gateway-only.ts'), mode, String(port)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/_skyscale/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, child, stop: async () => void child.kill('SIGTERM') };
}

interface Target {
  name: string;
  url: string;
  /** The server process whose CPU (and whose children's) is reported. */
  pid: number;
  headers?: Record<string, string>;
  script?: string;
}

interface Measured extends LoadResult {
  /** CPU µs per request over all rounds: steadier than req/s on a shared, noisy machine. */
  cpu: CpuSplit;
  machineBusy: number;
}

/**
 * Measures the targets in interleaved rounds (the machine's load drifts; interleaving spreads it evenly):
 * req/s is the median round with its latencies; errors and CPU per request are over all rounds.
 */
function measureRounds(targets: Target[], connections: number, seconds: number, rounds = 3): Map<string, Measured> {
  const runs = new Map<string, Array<{ load: LoadResult; cpu: CpuSplit; machineBusy: number }>>(targets.map((t) => [t.name, []]));
  const each = Math.max(2, Math.round(seconds / rounds));
  for (const t of targets) wrk(t.url, { connections, seconds: 1, headers: t.headers, script: t.script });
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const { result, cpu, machineBusy } = measureCpu(t.pid, () => wrk(t.url, { connections, seconds: each, headers: t.headers, script: t.script }));
      runs.get(t.name)!.push({ load: result, cpu, machineBusy });
    }
  }
  const out = new Map<string, Measured>();
  for (const t of targets) {
    const list = runs.get(t.name)!;
    const median = [...list].sort((a, b) => a.load.requestsPerSec - b.load.requestsPerSec)[Math.floor(list.length / 2)].load;
    const requests = list.reduce((n, r) => n + r.load.requests, 0);
    const per = (pick: (c: CpuSplit) => number) => list.reduce((n, r) => n + pick(r.cpu), 0) / requests;
    out.set(t.name, {
      ...median,
      errors: list.reduce((n, r) => n + r.load.errors, 0),
      errorKinds: list.map((r) => r.load.errorKinds).filter((k) => k !== '').join('; '),
      cpu: { server: per((c) => c.server), spawned: per((c) => c.spawned), client: per((c) => c.client), machine: per((c) => c.machine) },
      machineBusy: list.reduce((n, r) => n + r.machineBusy, 0) / list.length,
    });
  }
  return out;
}

const HEADER = [
  '| benchmark | req/s (median round) | p50 ms | p99 ms | CPU µs/req: server | its sandboxes | wrk | whole machine | errors |',
  '|---|---|---|---|---|---|---|---|---|',
];
const row = (name: string, r: Measured) =>
  `| ${name} | ${fmt(r.requestsPerSec, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.cpu.server, 1)} | ${r.cpu.spawned > 0 ? fmt(r.cpu.spawned, 1) : '–'} | ${fmt(r.cpu.client, 1)} | ${fmt(r.cpu.machine, 1)} | ${r.errors}${r.errorKinds === '' ? '' : ` (${r.errorKinds})`} |`;

/** The gateway alone: an instant backend, so only its own cost (HTTP, routing among 10,001 routes, event, response). */
async function benchGatewayAlone(seconds: number, connections: number): Promise<string[]> {
  const raw = await startRawNodeHttp(BODY);
  const http = await startGatewayOnly('http');
  const fastify = await startGatewayOnly('fastify');
  let m: Map<string, Measured>;
  try {
    m = measureRounds([
      { name: 'raw', url: raw.url, pid: raw.child.pid! },
      { name: 'http', url: `${http.url}/hello`, pid: http.child.pid! },
      { name: 'fastify', url: `${fastify.url}/hello`, pid: fastify.child.pid! },
    ], connections, seconds);
  } finally {
    await Promise.all([raw.stop(), http.stop(), fastify.stop()]);
  }
  const [r, h, f] = ['raw', 'http', 'fastify'].map((n) => m.get(n)!);
  return [
    `#### The gateway alone (instant backend, 10,001 routes), ${connections} connections`,
    '',
    ...HEADER,
    row('raw node:http, same JSON body', r),
    row('gateway on node:http', h),
    row('gateway mounted in Fastify (catch-all route, same handler)', f),
    '',
    `- Gateway alone ÷ raw node:http: **${fmt(h.requestsPerSec / r.requestsPerSec)}** on node:http, **${fmt(f.requestsPerSec / r.requestsPerSec)}** mounted in Fastify; its own cost ≈ **${fmt(h.cpu.server - r.cpu.server, 1)} µs CPU per request** over raw`,
    '',
  ];
}

/** A route to a hello-world JS function on the real platform, next to a raw node:http server and the control API. */
async function benchRoute(seconds: number, connections: number): Promise<string[]> {
  const sky = await startSkyscale({ WARM_POOL_SIZE: '2' });
  let m: Map<string, Measured>;
  try {
    const { client, key } = await benchClient(sky.url);
    const fn = await client.createFunction({ name: 'hello', runtime: 'node', code: HELLO, maxInstances: 2, concurrency: 32, routes: [{ method: 'GET', path: '/hello' }, { method: 'POST', path: '/hello' }] });
    const check = await fetch(`${sky.gatewayUrl}/hello`);
    if (check.status !== 200 || (await check.text()) !== BODY) throw new Error(`the route does not answer as expected: ${check.status}`);
    const raw = await startRawNodeHttp(BODY);
    const pid = sky.child.pid!;
    try {
      m = measureRounds([
        { name: 'raw', url: raw.url, pid: raw.child.pid! },
        { name: 'route', url: `${sky.gatewayUrl}/hello`, pid },
        { name: 'routePost', url: `${sky.gatewayUrl}/hello`, pid, script: postScript },
        { name: 'api', url: `${sky.url}/api/functions/${fn.id}/invoke?result=true`, pid, headers: { authorization: `Bearer ${key}` }, script: postScript },
      ], connections, seconds);
    } finally {
      await raw.stop();
    }
  } finally {
    await sky.stop();
  }
  const [raw, route, post, api] = ['raw', 'route', 'routePost', 'api'].map((n) => m.get(n)!);
  const total = (r: Measured) => r.cpu.server + r.cpu.spawned + r.cpu.client;
  return [
    `#### A route to a node hello-world function, ${connections} connections (\`maxInstances\` 2, \`concurrency\` 32)`,
    '',
    ...HEADER,
    row('raw node:http, same JSON body, next to the running platform', raw),
    row('gateway route GET /hello', route),
    row('gateway route POST /hello (JSON body)', post),
    row('control API POST /api/functions/{id}/invoke?result=true, same function', api),
    '',
    `- **Route ÷ raw node:http: ${fmt(route.requestsPerSec / raw.requestsPerSec)}** (GET), ${fmt(post.requestsPerSec / raw.requestsPerSec)} (POST). Target ≥ 0.5.`,
    `- Route ÷ the same function through the control API (both POST): ${fmt(post.requestsPerSec / api.requestsPerSec)} req/s; platform CPU per request ${fmt(post.cpu.server, 1)} vs ${fmt(api.cpu.server, 1)} µs.`,
    `- CPU per request of the three processes on the path (platform + sandboxed instance + wrk): ${fmt(total(route), 0)} µs for the route vs ${fmt(total(raw), 0)} µs for raw node:http — ${fmt(total(route) / total(raw), 1)}× the work on the same 2 cores; the machine was ${fmt(route.machineBusy * 100, 0)} % busy during the route rounds.`,
    '',
  ];
}

/** A V8 CPU profile of the platform while wrk drives the GET route, summarised by component. */
async function profileRoute(seconds: number, connections: number): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-gw-profile-'));
  try {
    const sky = await startSkyscale({ WARM_POOL_SIZE: '2', NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` });
    let startedAgoMs: number;
    let endedAgoMs: number;
    let load: LoadResult;
    try {
      const { client } = await benchClient(sky.url);
      await client.createFunction({ name: 'hello', runtime: 'node', code: HELLO, maxInstances: 2, concurrency: 32, routes: [{ method: 'GET', path: '/hello' }] });
      wrk(`${sky.gatewayUrl}/hello`, { connections, seconds: 1 });
      const start = performance.now();
      load = wrk(`${sky.gatewayUrl}/hello`, { connections, seconds });
      const end = performance.now();
      await sky.stop();
      // The profile ends when the process exits: the load's window is measured back from there.
      const exited = performance.now();
      startedAgoMs = exited - start;
      endedAgoMs = exited - end;
    } finally {
      await sky.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) return ['(no CPU profile was written)'];
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const span = profileSpanMs(profile);
    const { busyMs, rows } = summariseProfile(profile, { fromMs: span - startedAgoMs + 250, toMs: span - endedAgoMs - 250 });
    return [
      `#### Where the platform's CPU goes under the route's load (V8 profile, GET /hello, ${connections} connections, ${seconds} s, ${fmt(load.requestsPerSec, 0)} req/s while profiled)`,
      '',
      '| component (nearest platform frame on the stack) | share of busy samples | of which in its own frames |',
      '|---|---|---|',
      ...rows.filter((r) => r.share >= 0.005).map((r) => `| ${r.component} | ${fmt(r.share * 100, 1)} % | ${fmt(r.ownJs * 100, 0)} % |`),
      '',
      `${fmt(busyMs, 0)} ms of busy samples. "Its own frames" include native calls they make directly (a SQLite statement) and exclude what runs below them in Node's own JavaScript (node:http, streams, the socket \`writev\`).`,
      '',
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    `| routing table (${count.toLocaleString('en')} routes: static, 1 param, 2 params, wildcard) | build ms | ns per lookup (hit, params extracted) | ns per miss (404, with the 405 check) |`,
    '|---|---|---|---|',
    `| Skyscale segment trie (gateway/router.ts) | ${fmt(buildOwn, 1)} | ${fmt(ownNs, 0)} | ${fmt(missNs, 0)} |`,
    `| find-my-way (Fastify's router), same routes | ${fmt(buildFmw, 1)} | ${fmt(fmwNs, 0)} | |`,
    '',
    `Best of 5 rounds of ${lookups.toLocaleString('en')} lookups cycling through all ${count.toLocaleString('en')} routes; build is best of 5 (trie) / 3 (find-my-way).`,
    '',
  ];
}

export async function benchGateway(seconds: number, connections: number): Promise<string[]> {
  return [
    ...(await benchRouter(10_000)),
    ...(await benchGatewayAlone(seconds, connections)),
    ...(await benchRoute(seconds, connections)),
    ...(await profileRoute(seconds, connections)),
    'CPU columns: user + system time from /proc per request, over all rounds. "Its sandboxes" are the processes the server spawned (the function\'s sandboxed instances); "whole machine" includes everything else running on the shared host.',
  ];
}
