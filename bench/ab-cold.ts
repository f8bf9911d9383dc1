// `node bench/ab-cold.ts <checkoutA> <checkoutB> [rounds] [pool]`: cold starts, A/B between two
// checkouts of this repository in one run. Both platforms run side by side with WARM_POOL_SIZE=pool
// (0 = fully cold, 1 = from a stem cell); each round deploys a new function per runtime on each side
// and invokes it once, alternating A B / B A. Reports the execution's durationMs (the platform's own
// timing from acquire to result) and the HTTP round trip, median and best.
import { rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startCheckout } from './lib/checkout.ts';
import { benchClient, median } from './lib/api.ts';
import type { SkyscaleClient } from '../packages/client/src/index.ts';

const [dirA, dirB] = process.argv.slice(2, 4).map((d) => path.resolve(d));
if (dirA === undefined || dirB === undefined) {
  console.error('usage: node bench/ab-cold.ts <checkoutA> <checkoutB> [rounds] [pool]');
  process.exit(2);
}
const rounds = Number(process.argv[4] ?? 10);
const pool = process.argv[5] ?? '0';
const CODE = { node: 'export const handler = (e) => ({ ok: true });', python: 'def handler(event, context):\n    return {"ok": True}\n' };

interface Side { name: string; child: ChildProcess; dataDir: string; client: SkyscaleClient; samples: Record<string, { duration: number[]; wall: number[] }> }

async function start(name: string, dir: string): Promise<Side> {
  const { child, url, dataDir } = await startCheckout(name, dir, { WARM_POOL_SIZE: pool });
  const { client } = await benchClient(url);
  return { name, child, dataDir, client, samples: {} };
}

async function coldOnce(side: Side, runtime: 'node' | 'python', i: number): Promise<void> {
  const fn = await side.client.createFunction({ name: `cold-${runtime}-${i}`, runtime, code: CODE[runtime] });
  // Lets the stem pool refill (pool=1) and the machine settle after the deploy.
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const e = await side.client.invoke({ id: fn.id }, {});
  const wall = performance.now() - t0;
  if (e.status !== 'succeeded' || e.coldStart !== true) throw new Error(`${side.name}: cold run failed: ${JSON.stringify(e)}`);
  const s = (side.samples[runtime] ??= { duration: [], wall: [] });
  s.duration.push(e.durationMs ?? NaN);
  s.wall.push(wall);
  await side.client.deleteFunction(fn.id);
}

const a = await start('A', dirA);
const b = await start('B', dirB);
try {
  for (const side of [a, b]) for (const runtime of ['node', 'python'] as const) await coldOnce(side, runtime, -1);
  for (const side of [a, b]) side.samples = {};
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? [a, b] : [b, a]) for (const runtime of ['node', 'python'] as const) await coldOnce(side, runtime, r);
  }
  console.log(`A = ${dirA}\nB = ${dirB}\n${rounds} rounds, WARM_POOL_SIZE=${pool}`);
  console.log('| runtime | side | durationMs median (best) | HTTP round trip median (best) |');
  console.log('|---|---|---|---|');
  for (const runtime of ['node', 'python'] as const) {
    for (const side of [a, b]) {
      const s = side.samples[runtime]!;
      console.log(`| ${runtime} | ${side.name} | ${median(s.duration).toFixed(2)} (${Math.min(...s.duration).toFixed(2)}) | ${median(s.wall).toFixed(2)} (${Math.min(...s.wall).toFixed(2)}) |`);
    }
  }
} finally {
  for (const side of [a, b]) {
    const exited = new Promise((r) => side.child.once('exit', r));
    side.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    rmSync(side.dataDir, { recursive: true, force: true });
  }
}
