// `npm run bench`: runs the benchmark suites and prints Markdown rows for bench/RESULTS.md.
// BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 50) tune the load runs.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { hasWrk } from './lib/wrk.ts';
import { benchControlPlane, type Row } from './control-plane.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

if (!hasWrk()) {
  console.error('bench: wrk is not installed. Install it with: apt-get install -y wrk');
  process.exit(1);
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const rows: Row[] = await benchControlPlane(seconds, connections);
const lines = ['| benchmark | req/s | p50 ms | p99 ms | errors |', '|---|---|---|---|---|'];
for (const { name, result } of rows) lines.push(`| ${name} | ${fmt(result.requestsPerSec, 0)} | ${fmt(result.p50Ms)} | ${fmt(result.p99Ms)} | ${result.errors} |`);
const [baseline, api] = rows;
lines.push('', `Ratio GET /api/functions/{id} ÷ raw node:http: **${fmt(api.result.requestsPerSec / baseline.result.requestsPerSec)}**`);
const report = lines.join('\n');
console.log(report);
const outDir = path.join(import.meta.dirname, 'out');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'latest.md'), `${new Date().toISOString()} (wrk -t1 -c${connections} -d${seconds}s)\n\n${report}\n`);
