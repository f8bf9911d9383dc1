// `npm run bench [suite ...]`: runs benchmark suites and prints Markdown for bench/RESULTS.md.
// Suites: control, invoke, cold, async, burst, objects, sampler, gateway (includes router), router, stream, flood, distributed (default: all but router).
// BENCH_SECONDS (10) and BENCH_CONNECTIONS (50) tune the wrk runs; BENCH_COLD_RUNS (10) the cold-start samples and
// BENCH_COLD_RUNTIMES (node,python,php,wasm,command) the runtimes they are taken for.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { hasWrk } from './lib/wrk.ts';
import { benchControlPlane } from './control-plane.ts';
import { benchAsync, benchBurst, benchColdStart, benchWarmInvoke } from './invoke.ts';
import { benchObjects } from './objects.ts';
import { benchLoadSampler } from './load-sampler.ts';
import { benchStream } from './stream.ts';
import { benchGateway, benchRouter } from './gateway.ts';
import { benchFlood } from './flood.ts';
import { benchDistributed } from './distributed.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? 10);

if (!hasWrk()) {
  console.error('bench: wrk is not installed. Install it with: apt-get install -y wrk');
  process.exit(1);
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const suites: Record<string, () => Promise<string[]>> = {
  control: async () => {
    const rows = await benchControlPlane(seconds, connections);
    const lines = ['| benchmark | req/s | p50 ms | p99 ms | errors |', '|---|---|---|---|---|'];
    for (const { name, result } of rows) lines.push(`| ${name} | ${fmt(result.requestsPerSec, 0)} | ${fmt(result.p50Ms)} | ${fmt(result.p99Ms)} | ${result.errors} |`);
    lines.push('', `Ratio GET /api/functions/{id} ÷ raw node:http: **${fmt(rows[1].result.requestsPerSec / rows[0].result.requestsPerSec)}**`);
    return lines;
  },
  invoke: () => benchWarmInvoke(seconds, connections),
  cold: () => benchColdStart(coldRuns),
  async: () => benchAsync(1000),
  burst: () => benchBurst(1000),
  objects: () => benchObjects(),
  sampler: () => benchLoadSampler(seconds),
  stream: () => benchStream(seconds),
  gateway: () => benchGateway(seconds, connections),
  router: () => benchRouter(10_000),
  flood: () => benchFlood(seconds),
  distributed: () => benchDistributed(),
};

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(suites).filter((s) => s !== 'router');
const report: string[] = [`${new Date().toISOString()} — wrk -t1 -c${connections} -d${seconds}s`, ''];
for (const name of chosen) {
  const suite = suites[name];
  if (suite === undefined) {
    console.error(`bench: unknown suite "${name}"; choose from ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  const lines = [`### ${name}`, '', ...(await suite()), ''];
  console.log(lines.join('\n'));
  report.push(...lines);
}
const outDir = path.join(import.meta.dirname, 'out');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'latest.md'), report.join('\n') + '\n');
