// What a CPU quota costs a small function, measured on the process driver (no platform):
//   node bench/cpu-quota.ts [runs=10] [quotas=none,100,50,25,10]
// For each quota and runtime: cold start (start → ready), load + first invoke and warm invokes of a hello
// handler, and of a handler doing a fixed computation of about 20 ms on one free core of the dev machine
// (`WORK` scales it). `BOOT` lists the quotas the runtime starts under before the function's quota is set at
// load (`same`: the function's own from the start).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxRuntime } from '../packages/server/src/sandbox/driver.ts';
import { ProcessDriver } from '../packages/server/src/sandbox/process/process-driver.ts';

const runs = Number(process.argv[2] ?? 10);
const quotas = (process.argv[3] ?? 'none,100,50,25,10').split(',').map((q) => (q === 'none' ? undefined : Number(q)));
const boots = (process.env.BOOT ?? 'same,100').split(',').map((b) => (b === 'same' ? 'same' : b === 'none' ? undefined : Number(b)));
const work = Number(process.env.WORK ?? 1);
const runtimes = (process.env.RUNTIMES ?? 'node,python').split(',') as SandboxRuntime[];

const CODE: Partial<Record<SandboxRuntime, { file: string; source: string }>> = {
  node: { file: 'index.js', source: 'export const hello = (e) => ({ echo: e });\nexport const work = (e) => { let x = 0; for (let i = 0; i < e.n * 500000; i++) x = (x + i * i) % 1000003; return x; };\n' },
  python: { file: 'main.py', source: 'def hello(e, c):\n    return {"echo": e}\ndef work(e, c):\n    x = 0\n    for i in range(int(e["n"] * 120000)):\n        x = (x + i * i) % 1000003\n    return x\n' },
};
const handler = (runtime: SandboxRuntime, name: string): string => `${runtime === 'node' ? 'index' : 'main'}.${name}`;

const root = mkdtempSync(path.join(os.tmpdir(), 'skyscale-cpu-quota-'));
chmodSync(root, 0o711);
const driver = new ProcessDriver({ workDir: path.join(root, 'work'), cgroupName: 'skyscale-bench' });
const caps = await driver.probe();
console.log(`cgroup v${caps.cgroup.version}, cpuLimit=${caps.cpuLimit}, ${os.availableParallelism()} cores, ${runs} runs, work ×${work}`);
const codeDirs: Partial<Record<SandboxRuntime, string>> = {};
for (const runtime of runtimes) {
  codeDirs[runtime] = mkdtempSync(path.join(root, `${runtime}-`));
  writeFileSync(path.join(codeDirs[runtime], CODE[runtime]!.file), CODE[runtime]!.source);
}

const p50 = (values: number[]): string => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(1);
const p90 = (values: number[]): string => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.9))]!.toFixed(1);
console.log('\n| runtime | boot quota | function quota | start p50 / p90 ms | load + first invoke p50 / p90 ms | warm hello p50 / p90 ms | work (~' + 20 * work + ' ms CPU) p50 / p90 ms |');
console.log('|---|---|---|---|---|---|---|');
let n = 0;
try {
  for (const runtime of runtimes) {
    for (const boot of boots) {
      for (const quota of quotas) {
        if (boot !== 'same' && quota === undefined) continue;
        const samples = { start: [] as number[], load: [] as number[], warm: [] as number[], work: [] as number[] };
        for (let i = 0; i < runs; i++) {
          const bootQuota = boot === 'same' ? quota : boot;
          const t0 = performance.now();
          const instance = await driver.start({ id: `q-${++n}`, runtime, limits: { memoryMb: 128, ...(bootQuota === undefined ? {} : { cpuQuotaPercent: bootQuota }) } });
          const t1 = performance.now();
          const load = { runtime, codeDir: codeDirs[runtime]!, env: {}, functionName: 'q', functionVersion: '1', deadlineMs: Date.now() + 30_000, limits: { memoryMb: 128, ...(quota === undefined ? {} : { cpuQuotaPercent: quota }) } };
          await instance.load({ ...load, handler: handler(runtime, i % 2 === 0 ? 'hello' : 'work') });
          await instance.invoke({ executionId: 'first', event: { n: work }, deadlineMs: Date.now() + 30_000 });
          const t2 = performance.now();
          samples.start.push(t1 - t0);
          if (i % 2 === 0) samples.load.push(t2 - t1);
          for (let j = 0; j < 20; j++) {
            // Spaced like real traffic, so every call starts a fresh quota period instead of queueing behind the last.
            await new Promise((r) => setTimeout(r, 30));
            const w0 = performance.now();
            await instance.invoke({ executionId: `w${j}`, event: { n: work }, deadlineMs: Date.now() + 30_000 });
            (i % 2 === 0 ? samples.warm : samples.work).push(performance.now() - w0);
          }
          await instance.kill('measured');
        }
        const q = (v: number | undefined): string => (v === undefined ? 'none' : `${v} %`);
        console.log(`| ${runtime} | ${boot === 'same' ? q(quota) : q(boot)} | ${q(quota)} | ${p50(samples.start)} / ${p90(samples.start)} | ${p50(samples.load)} / ${p90(samples.load)} | ${p50(samples.warm)} / ${p90(samples.warm)} | ${p50(samples.work)} / ${p90(samples.work)} |`);
      }
    }
  }
} finally {
  await driver.close();
  rmSync(root, { recursive: true, force: true });
}
