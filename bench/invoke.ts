import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FunctionDeploy, Runtime } from '@skyscale/client';
import { startRawNodeHttp, startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { wrk, type LoadResult } from './lib/wrk.ts';
import { benchClient, median, percentile } from './lib/api.ts';

const postScript = path.join(import.meta.dirname, 'lib/post.lua');
const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export interface InvokeReport {
  lines: string[];
}

function loadRow(name: string, r: LoadResult): string {
  return `| ${name} | ${fmt(r.requestsPerSec, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${r.errors} |`;
}

/** Warm sync invoke through the API vs a raw node:http hello server, at 1 and `connections` clients. */
export async function benchWarmInvoke(seconds: number, connections: number): Promise<string[]> {
  const sky = await startSkyscale({ WARM_POOL_SIZE: '2' });
  try {
    const { client, key } = await benchClient(sky.url);
    const fn = await client.createFunction({ name: 'hello', runtime: 'node', code: 'export const handler = (e) => ({ hello: e.name });', maxInstances: 2, concurrency: 32 });
    await client.invoke({ id: fn.id }, { name: 'warm' });
    const raw = await startRawNodeHttp(JSON.stringify({ hello: 'bench' }));
    const url = `${sky.url}/api/functions/${fn.id}/invoke?result=true`;
    const headers = { authorization: `Bearer ${key}` };
    try {
      const lines = ['| benchmark | req/s | p50 ms | p99 ms | errors |', '|---|---|---|---|---|'];
      const results: Record<string, LoadResult> = {};
      for (const c of [1, connections]) {
        wrk(raw.url, { connections: c, seconds: 1 });
        results[`raw${c}`] = wrk(raw.url, { connections: c, seconds });
        wrk(url, { connections: c, seconds: 1, headers, script: postScript });
        results[`sky${c}`] = wrk(url, { connections: c, seconds, headers, script: postScript });
        lines.push(loadRow(`raw node:http hello, ${c} conn`, results[`raw${c}`]));
        lines.push(loadRow(`warm sync invoke (node hello, ?result=true), ${c} conn`, results[`sky${c}`]));
      }
      lines.push('');
      lines.push(`Warm invoke overhead at 1 connection (p50 invoke − p50 raw): **${fmt(results.sky1.p50Ms - results.raw1.p50Ms)} ms**`);
      lines.push(`Throughput ratio invoke ÷ raw at ${connections} connections: **${fmt(results[`sky${connections}`].requestsPerSec / results[`raw${connections}`].requestsPerSec)}**`);
      return lines;
    } finally {
      await raw.stop();
    }
  } finally {
    await sky.stop();
  }
}

const HELLO_WASM = readFileSync(path.join(import.meta.dirname, '../examples/hello-wasm/main.wasm')).toString('base64');

/** The smallest function of each runtime; BENCH_COLD_RUNTIMES picks which the cold suite measures. */
const DEPLOY: Record<Runtime, Omit<FunctionDeploy, 'name'>> = {
  node: { code: 'export const handler = (e) => ({ ok: true });' },
  python: { code: 'def handler(event, context):\n    return {"ok": True}\n' },
  php: { code: '<?php\nfunction handler($event, $context) { return ["ok" => true]; }\n' },
  wasm: { files: { 'main.wasm': { content: HELLO_WASM, encoding: 'base64' } } },
  // The seed's shape: a python3 process per invocation, spawned by the warm python bootstrap.
  command: { handler: 'main.py', files: { 'main.py': 'import json, sys\nprint(json.dumps({"ok": True, "in": json.loads(sys.argv[1])}))\n' } },
};
const EVENT: Record<Runtime, unknown> = { node: {}, python: {}, php: {}, wasm: { name: 'cold' }, command: {} };
const COLD_RUNTIMES = (process.env.BENCH_COLD_RUNTIMES ?? 'node,python,php,wasm,command').split(',') as Runtime[];

/**
 * Cold starts per runtime: from a stem cell (pool of 1, refilled between runs) and fully cold (empty
 * pool). Runtimes are interleaved run by run, so machine noise hits them alike, and each function is
 * deleted after its run, so idle instances do not pile up for the later ones. Ratios are to node's p50
 * in the same run.
 */
export async function benchColdStart(runs: number): Promise<string[]> {
  const lines = ['| runtime | start | runs | p50 ms (execution durationMs) | p90 ms | p50 ms (HTTP round trip) | p50 ÷ node |', '|---|---|---|---|---|---|---|'];
  for (const [label, pool] of [['stem cell available', '1'], ['fully cold (empty pool)', '0']] as const) {
    const sky = await startSkyscale({ WARM_POOL_SIZE: pool });
    try {
      const { client } = await benchClient(sky.url);
      const durations = new Map<Runtime, number[]>(COLD_RUNTIMES.map((r) => [r, []]));
      const walls = new Map<Runtime, number[]>(COLD_RUNTIMES.map((r) => [r, []]));
      for (let i = 0; i < runs; i++) {
        for (const runtime of COLD_RUNTIMES) {
          const fn = await client.createFunction({ name: `cold-${runtime}-${i}`, runtime, ...DEPLOY[runtime] });
          await new Promise((r) => setTimeout(r, 250));
          const t0 = performance.now();
          const e = await client.invoke({ id: fn.id }, EVENT[runtime]);
          walls.get(runtime)!.push(performance.now() - t0);
          if (e.status !== 'succeeded' || e.coldStart !== true) throw new Error(`cold run failed: ${JSON.stringify(e)}`);
          durations.get(runtime)!.push(e.durationMs ?? NaN);
          await client.deleteFunction(fn.id);
        }
      }
      const nodeP50 = durations.has('node') ? median(durations.get('node')!) : NaN;
      for (const runtime of COLD_RUNTIMES) {
        const d = durations.get(runtime)!;
        lines.push(`| ${runtime} | ${label} | ${runs} | ${fmt(median(d))} | ${fmt(percentile(d, 90))} | ${fmt(median(walls.get(runtime)!))} | ${fmt(median(d) / nodeP50)} |`);
      }
    } finally {
      await sky.stop();
    }
  }
  return lines;
}

/** Async: executions/s from the first 202 to the last terminal state. */
export async function benchAsync(count: number): Promise<string[]> {
  const sky = await startSkyscale({ WARM_POOL_SIZE: '2', ASYNC_CONCURRENCY: '16' });
  try {
    const { client } = await benchClient(sky.url);
    const fn = await client.createFunction({ name: 'async-hello', runtime: 'node', code: DEPLOY.node.code, maxInstances: 4, concurrency: 4 });
    await client.invoke({ id: fn.id }, {});
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < count; i += 50) ids.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => client.invokeAsync({ id: fn.id }, {})))).map((q) => q.id));
    const accepted = performance.now() - t0;
    // Done when nothing of this function is queued or running; two cheap queries per poll.
    for (;;) {
      const [queued, running] = await Promise.all([
        client.listExecutions({ functionId: fn.id, status: 'queued', limit: 1 }),
        client.listExecutions({ functionId: fn.id, status: 'running', limit: 1 }),
      ]);
      if (queued.items.length === 0 && running.items.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const total = performance.now() - t0;
    for (const id of ids.slice(-20)) {
      const e = await client.getExecution(id);
      if (e.status !== 'succeeded') throw new Error(`async execution ${id} ended ${e.status}`);
    }
    const failed = await client.listExecutions({ functionId: fn.id, status: 'failed', limit: 1 });
    if (failed.items.length > 0) throw new Error('some async executions failed');
    return [
      `| async executions | accepted (202s) per s | end-to-end executions per s |`,
      '|---|---|---|',
      `| ${count} | ${fmt(count / (accepted / 1000), 0)} | ${fmt(count / (total / 1000), 0)} |`,
    ];
  } finally {
    await sky.stop();
  }
}

/** 1000 sync invocations fired at once: each must succeed or be throttled with 429 + Retry-After. */
export async function benchBurst(count: number): Promise<string[]> {
  const sky = await startSkyscale({ WARM_POOL_SIZE: '2' });
  try {
    const { client, key } = await benchClient(sky.url);
    const fn = await client.createFunction({ name: 'burst', runtime: 'node', code: 'export const handler = async () => { await new Promise(r => setTimeout(r, 5)); return 1; };', maxInstances: 4, concurrency: 8 });
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: count }, async () => {
      try {
        const res = await fetch(`${sky.url}/api/functions/${fn.id}/invoke?result=true`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
        await res.text();
        return res.status === 429 && res.headers.get('retry-after') === null ? '429-without-retry-after' : String(res.status);
      } catch (err) {
        return `error:${(err as Error).message}`;
      }
    }));
    const wall = performance.now() - t0;
    const counts = new Map<string, number>();
    for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
    const errors = statuses.filter((s) => s !== '200' && s !== '429').length;
    return [`| concurrent sync invocations | outcome | wall s | errors |`, '|---|---|---|---|', `| ${count} | ${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')} | ${fmt(wall / 1000)} | ${errors} |`];
  } finally {
    await sky.stop();
  }
}
