/**
 * Quick numbers for the process driver: cold start (spawn bwrap + runtime → ready), load, first
 * invoke, and warm invoke round trips on one instance. Not a test; run it directly:
 *   node packages/server/test/sandbox/measure-startup.ts [coldRuns=20] [warmInvokes=5000]
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxRuntime } from '../../src/sandbox/driver.ts';
import { ProcessDriver } from '../../src/sandbox/process/process-driver.ts';

const HANDLERS: Record<SandboxRuntime, { file: string; source: string | Buffer; handler: string }> = {
  node: { file: 'index.js', source: 'export const handler = (event) => ({ echo: event });\n', handler: 'index.handler' },
  python: { file: 'main.py', source: 'def handler(event, context):\n    return {"echo": event}\n', handler: 'main.handler' },
  php: { file: 'index.php', source: '<?php\nfunction handler($event, $context) { return ["echo" => $event]; }\n', handler: 'index.handler' },
  // The seed's example command: a fresh python3 per invocation.
  command: { file: 'main.py', source: 'import json, sys\nprint(json.dumps({"echo": json.loads(sys.argv[1])}))\n', handler: 'main.py' },
  wasm: { file: 'main.wasm', source: readFileSync(new URL('../../../../examples/hello-wasm/main.wasm', import.meta.url)), handler: 'main.wasm' },
};
const RUNTIMES = (process.env.RUNTIMES?.split(',') ?? Object.keys(HANDLERS)) as SandboxRuntime[];

async function main(): Promise<void> {
  const coldRuns = Number(process.argv[2] ?? 20);
  const warmInvokes = Number(process.argv[3] ?? 5000);
  const root = mkdtempSync(path.join(os.tmpdir(), 'skyscale-measure-'));
  chmodSync(root, 0o711); // sandbox uids must reach the work dir inside it
  try {
    await measure(root, coldRuns, warmInvokes);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function measure(root: string, coldRuns: number, warmInvokes: number): Promise<void> {
  const driver = new ProcessDriver({ workDir: path.join(root, 'work'), cgroupName: 'skyscale-measure' });
  const caps = await driver.probe();
  console.log(`isolation=${caps.isolation} cgroup=v${caps.cgroup.version} memory=${caps.memoryLimit} pids=${caps.pidsLimit} node=${caps.runtimes.node?.version} python=${caps.runtimes.python?.version} php=${caps.runtimes.php?.version} cpus=${os.cpus().length}`);
  const codeDirs = {} as Record<SandboxRuntime, string>;
  for (const [runtime, fixture] of Object.entries(HANDLERS) as Array<[SandboxRuntime, (typeof HANDLERS)[SandboxRuntime]]>) {
    codeDirs[runtime] = mkdtempSync(path.join(root, `${runtime}-`));
    writeFileSync(path.join(codeDirs[runtime], fixture.file), fixture.source);
  }
  const samples: Record<string, number[]> = {};
  const record = (key: string, ms: number): void => {
    (samples[key] ??= []).push(ms);
  };
  // Interleaved so that machine noise hits both runtimes alike.
  for (let i = 0; i < coldRuns; i++) {
    for (const runtime of RUNTIMES) {
      const t0 = performance.now();
      const instance = await driver.start({ id: `measure-${runtime}-${i}`, runtime, limits: { memoryMb: 128 } });
      const t1 = performance.now();
      await instance.load({ runtime, codeDir: codeDirs[runtime], handler: HANDLERS[runtime].handler, env: {}, functionName: 'measure', functionVersion: '1', deadlineMs: Date.now() + 10_000 });
      const t2 = performance.now();
      await instance.invoke({ executionId: 'first', event: 1, deadlineMs: Date.now() + 10_000 });
      const t3 = performance.now();
      record(`${runtime} start (spawn → ready)`, t1 - t0);
      record(`${runtime} load`, t2 - t1);
      record(`${runtime} first invoke`, t3 - t2);
      record(`${runtime} cold total`, t3 - t0);
      await instance.kill('measured');
    }
  }
  for (const runtime of RUNTIMES) {
    const instance = await driver.start({ id: `measure-warm-${runtime}`, runtime, limits: { memoryMb: 128 } });
    await instance.load({ runtime, codeDir: codeDirs[runtime], handler: HANDLERS[runtime].handler, env: {}, functionName: 'measure', functionVersion: '1', deadlineMs: Date.now() + 10_000 });
    // A command spawns a process per invocation: fewer samples.
    const [count, warmup] = runtime === 'command' ? [Math.min(warmInvokes, 100), 5] : [warmInvokes, 200];
    for (let i = 0; i < count + warmup; i++) {
      const t0 = performance.now();
      await instance.invoke({ executionId: `w${i}`, event: { i }, deadlineMs: Date.now() + 10_000 });
      if (i >= warmup) record(`${runtime} warm invoke`, performance.now() - t0);
    }
    await instance.kill('measured');
  }
  console.log('\n| measurement | runs | p50 ms | p90 ms | p99 ms | min ms |\n|---|---|---|---|---|---|');
  for (const [key, values] of Object.entries(samples)) {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3);
    console.log(`| ${key} | ${values.length} | ${at(0.5)} | ${at(0.9)} | ${at(0.99)} | ${sorted[0]!.toFixed(3)} |`);
  }
}

// `node --test` with its default patterns would pick this file up too; it is not a test.
if (!process.env.NODE_TEST_CONTEXT) await main();
