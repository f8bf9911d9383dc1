// `node bench/profile-invoke.ts [seconds] [connections]`: where the CPU of a warm sync invoke goes.
// Runs wrk against POST /api/functions/{id}/invoke and reports CPU µs per request for the platform's
// main process, its sandboxed instances and wrk itself (from /proc and the shell's `times`).
// PROFILE_DIR=dir also writes a V8 CPU profile of the platform (open it in Chrome DevTools).
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { benchClient } from './lib/api.ts';
import { descendants } from './lib/process-cpu.ts';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const TICK_US = 1e6 / 100; // USER_HZ

function cpuOf(pid: number, tid?: string): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return 0;
  }
}

/** CPU µs per thread of a process, by thread name. */
function threadsOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(name, (out.get(name) ?? 0) + cpuOf(pid, tid));
    } catch {
      // gone
    }
  }
  return out;
}

function systemBusy(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + cpu[4];
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) * TICK_US, total: total * TICK_US };
}

const env: Record<string, string> = { WARM_POOL_SIZE: '2' };
if (process.env.PROFILE_DIR) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${path.resolve(process.env.PROFILE_DIR)}`;
const sky = await startSkyscale(env);
try {
  const { client, key } = await benchClient(sky.url);
  const fn = await client.createFunction({ name: 'hello', runtime: 'node', code: 'export const handler = (e) => ({ hello: e.name });', maxInstances: 2, concurrency: 32 });
  await client.invoke({ id: fn.id }, { name: 'warm' });
  const url = `${sky.url}/api/functions/${fn.id}/invoke?result=true`;
  const wrkCmd = `wrk -t1 -c${connections} -d${seconds}s -H 'authorization: Bearer ${key}' -s ${path.join(import.meta.dirname, 'lib/post.lua')} ${url}`;
  spawnSync('bash', ['-c', wrkCmd.replace(`-d${seconds}s`, '-d2s')]);
  const main = sky.child.pid!;
  const before = new Map([main, ...descendants(main)].map((p) => [p, cpuOf(p)]));
  const threads0 = threadsOf(main);
  const sys0 = systemBusy();
  const run = spawnSync('bash', ['-c', `${wrkCmd}; times`], { encoding: 'utf8' });
  const sys1 = systemBusy();
  const threads1 = threadsOf(main);
  const after = new Map([main, ...descendants(main)].map((p) => [p, cpuOf(p)]));
  const requests = Number(/(\d+) requests in/.exec(run.stdout)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? 0);
  const times = run.stdout.trim().split('\n').at(-1)!.split(/\s+/).map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t)!;
    return (Number(m[1]) * 60 + Number(m[2])) * 1e6;
  });
  const delta = (p: number) => (after.get(p) ?? 0) - (before.get(p) ?? 0);
  const sandboxUs = [...after.keys()].filter((p) => p !== main).reduce((a, p) => a + delta(p), 0);
  const per = (us: number) => (us / requests).toFixed(1);
  console.log(`${requests} requests, ${rps} req/s, ${connections} connections`);
  console.log(`CPU µs per request: platform main ${per(delta(main))}, sandboxes ${per(sandboxUs)}, wrk ${per(times[0] + times[1])}, whole machine ${per(sys1.busy - sys0.busy)}`);
  console.log(`platform threads (µs per request): ${[...threads1].map(([name, us]) => [name, us - (threads0.get(name) ?? 0)] as const).filter(([, us]) => us > 0).map(([name, us]) => `${name} ${per(us)}`).join(', ')}`);
  console.log(`machine busy ${(((sys1.busy - sys0.busy) / (sys1.total - sys0.total)) * 100).toFixed(0)} %`);
} finally {
  const t0 = performance.now();
  await sky.stop();
  console.log(`stopped in ${(performance.now() - t0).toFixed(0)} ms`);
}
