/** Attacks on resources: each must end in its own outcome kind, with nothing of the instance left. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import type { InvokeOutcome } from '../../src/sandbox/driver.ts';
import { runtimeSkip } from '../helpers/sandbox.ts';
import { assertNothingSurvives, expectOk, snapshotProcesses, type Harness } from './harness.ts';

const MiB = 1024 * 1024;

export function defineLimitTests(h: () => Harness): void {
  describe('limits', () => {
    test('fork bomb: process count is capped, the instance is then killed and the host is fine', async (t) => {
      const caps = await h().driver.probe();
      if (caps.pidsLimit === 'pid-namespace-only') return skipLoudly(t, 'this host cannot limit the number of processes (no pids cgroup, no per-instance uid)');
      const instance = await h().loaded('python', 'fork_bomb', { limits: { pids: 32 } });
      const result = expectOk(await h().invoke(instance, { attempts: 300 }, 10_000)) as { forked: number; failed: number };
      assert.ok(result.failed > 0, `no fork failed: ${JSON.stringify(result)}`);
      assert.ok(result.forked < 32, `forked ${result.forked} processes under a limit of 32`);
      const processes = await snapshotProcesses(instance);
      assert.ok(processes.length > result.forked, 'the forked children belong to the instance');
      await instance.kill('fork bomb test');
      await assertNothingSurvives(instance, processes);
      assert.equal(spawnSync('/bin/true').status, 0, 'the host can still start processes');
    });

    test('command fork bomb: the spawned command is under the same process limit, and its children die with the execution', async (t) => {
      const caps = await h().driver.probe();
      if (caps.pidsLimit === 'pid-namespace-only') return skipLoudly(t, 'this host cannot limit the number of processes (no pids cgroup, no per-instance uid)');
      const instance = await h().loaded('command', 'forkbomb.py', { limits: { pids: 32 } });
      const before = (await instance.processes()).length;
      const result = expectOk(await h().invoke(instance, null, 20_000)) as { forked: number; failed: number };
      assert.ok(result.failed > 0 && result.forked < 32, JSON.stringify(result));
      assert.equal((await instance.processes()).length, before, 'the forked children were left running');
      assert.equal(instance.state, 'ready');
    });

    const memoryBombs = [['node', 'memoryBomb', 128], ['node', 'heapBomb', 128], ['python', 'memory_bomb', 64], ['php', 'memoryBomb', 64], ['command', 'membomb.py', 64], ['wasm', 'grow.wasm', 128]] as const;
    for (const [runtime, exportName, memoryMb] of memoryBombs) {
      test(`${runtime} ${exportName}: exceeding the memory limit is an oom outcome`, { skip: runtimeSkip(runtime) }, async () => {
        const instance = await h().loaded(runtime, exportName, { limits: { memoryMb } });
        const processes = await snapshotProcesses(instance);
        const outcome = await h().invoke(instance, null, 20_000);
        assert.equal(outcome.kind, 'oom', summary(outcome));
        assert.equal(outcome.kind === 'oom' ? outcome.memoryMb : 0, memoryMb);
        assert.equal((await instance.exited).cause, 'oom');
        await assertNothingSurvives(instance, processes);
      });
    }

    const neverEnding = [['node', 'busyLoop'], ['python', 'busy_loop'], ['node', 'hang'], ['php', 'busyLoop'], ['command', 'sleep.sh'], ['wasm', 'loop.wasm']] as const;
    for (const [runtime, exportName] of neverEnding) {
      test(`${runtime} ${exportName}: the instance is killed at the deadline and the outcome is timeout`, { skip: runtimeSkip(runtime) }, async () => {
        const instance = await h().loaded(runtime, exportName);
        const processes = await snapshotProcesses(instance);
        const started = Date.now();
        const outcome = await h().invoke(instance, null, 400);
        const elapsed = Date.now() - started;
        assert.equal(outcome.kind, 'timeout', summary(outcome));
        assert.ok(elapsed >= 390 && elapsed < 3000, `timed out after ${elapsed} ms`);
        assert.equal((await instance.exited).cause, 'timeout');
        await assertNothingSurvives(instance, processes);
      });
    }

    // Command and wasm floods write the result channel (stdout), which is bounded but not logged.
    const floods = [['node', 'flood', true], ['python', 'flood', true], ['python', 'raw_flood', true], ['php', 'flood', true], ['command', 'flood.py', false], ['wasm', 'flood.wasm', false]] as const;
    for (const [runtime, exportName, logged] of floods) {
      test(`${runtime} ${exportName}: 100 MB of output is output_truncated and does not grow host memory`, { skip: runtimeSkip(runtime) }, async () => {
        const instance = await h().loaded(runtime, exportName);
        const processes = await snapshotProcesses(instance);
        const rssBefore = process.memoryUsage().rss;
        const outcome = await h().invoke(instance, { mb: 100 }, 30_000);
        const rssGrowth = process.memoryUsage().rss - rssBefore;
        assert.equal(outcome.kind, 'output_truncated', summary(outcome));
        if (logged) assert.ok(outcome.logsTruncated);
        if (logged) assert.match(outcome.logs, /\[skyscale: log truncated, \d+ more bytes not shown\]\n$/);
        assert.ok(Buffer.byteLength(outcome.logs) < 300 * 1024, `logs are ${Buffer.byteLength(outcome.logs)} bytes`);
        assert.ok(rssGrowth < 50 * MiB, `host RSS grew by ${Math.round(rssGrowth / MiB)} MiB`);
        await assertNothingSurvives(instance, processes);
      });
    }

    test('logs over the log limit are cut with a marker, and the execution still succeeds', async () => {
      const instance = await h().loaded('node', 'manyLogs', { limits: { logBytes: 64 * 1024 } });
      const outcome = await h().invoke(instance, { kb: 200 });
      assert.equal(expectOk(outcome), 'done');
      assert.equal(outcome.logsTruncated, true);
      assert.ok(Buffer.byteLength(outcome.logs) <= 64 * 1024 + 100);
      assert.match(outcome.logs, /log truncated, \d+ more bytes not shown/);
      assert.equal(instance.state, 'ready');
    });

    test('a result larger than the output limit is output_truncated', async () => {
      const instance = await h().loaded('node', 'bigResult', { limits: { outputBytes: 256 * 1024, logBytes: 64 * 1024 } });
      const outcome = await h().invoke(instance, { bytes: 512 * 1024 });
      assert.equal(outcome.kind, 'output_truncated', summary(outcome));
    });

    test('a timeout of one instance does not disturb another', async () => {
      const [hanging, healthy] = await Promise.all([h().loaded('node', 'hang'), h().loaded('python', 'count')]);
      const [timedOut, fine] = await Promise.all([h().invoke(hanging, null, 300), h().invoke(healthy)]);
      assert.equal(timedOut.kind, 'timeout');
      assert.equal(expectOk(fine), 1);
      assert.equal(healthy.state, 'ready');
    });
  });
}

function skipLoudly(t: TestContext, why: string): void {
  const message = `SKIPPED — ${why}`;
  console.warn(`\n!!! ${message} !!!\n`);
  t.diagnostic(message);
  t.skip(message);
}

function summary(outcome: InvokeOutcome): string {
  return JSON.stringify({ ...outcome, logs: outcome.logs.slice(0, 500) });
}
