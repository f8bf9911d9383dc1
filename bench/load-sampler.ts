import { readFileSync } from 'node:fs';
import { startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { benchClient } from './lib/api.ts';

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** utime + stime of a process in ms (USER_HZ 100). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * What the load sampler costs: with 0, 8 and 32 idle function instances, the sampler's own time per
 * tick (every 500 ms, all instances) and the whole platform process's CPU over the same window.
 */
export async function benchLoadSampler(seconds: number): Promise<string[]> {
  const lines = ['| function instances | ticks | mean ms per tick | sampler CPU, % of a core | platform process CPU, % of a core |', '|---|---|---|---|---|'];
  for (const count of [0, 8, 32]) {
    const sky = await startSkyscale({ WARM_POOL_SIZE: '0', INSTANCE_IDLE_TTL_SECONDS: '600' });
    try {
      const { client, key } = await benchClient(sky.url);
      if (count > 0) {
        const fn = await client.createFunction({ name: `idle-${count}`, runtime: 'node', code: 'export const handler = (e) => new Promise((r) => setTimeout(r, e.ms));', maxInstances: count, concurrency: 1 });
        await Promise.all(Array.from({ length: count }, () => client.invoke({ id: fn.id }, { ms: 1000 })));
      }
      const sampler = async () => (await (await fetch(`${sky.url}/api/v1/metrics/workers`, { headers: { authorization: `Bearer ${key}` } })).json()).sampler as { ticks: number; meanTickMs: number };
      await new Promise((r) => setTimeout(r, 1500));
      const before = { at: performance.now(), cpu: cpuMsOf(sky.child.pid!), s: await sampler() };
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const after = { at: performance.now(), cpu: cpuMsOf(sky.child.pid!), s: await sampler() };
      const wall = after.at - before.at;
      const ticks = after.s.ticks - before.s.ticks;
      const samplerMs = after.s.meanTickMs * after.s.ticks - before.s.meanTickMs * before.s.ticks;
      lines.push(`| ${count} | ${ticks} | ${ticks === 0 ? 'skipped' : fmt(samplerMs / ticks, 3)} | ${fmt((samplerMs / wall) * 100, 3)} | ${fmt(((after.cpu - before.cpu) / wall) * 100, 2)} |`);
    } finally {
      await sky.stop();
    }
  }
  return lines;
}
