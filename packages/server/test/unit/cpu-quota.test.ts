import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { loadConfig } from '../../src/config/config.ts';
import { narrowLimits, resolveLimits } from '../../src/sandbox/limits.ts';
import { cpuQuotaFor } from '../../src/worker/instance-loader.ts';

const policy = { mbPerCore: 1769, minPercent: 25, maxPercent: 200 };
const limits = (memoryMb: number, cpuQuotaPercent: number | null = null) => ({ memoryMb, cpuQuotaPercent, timeoutMs: 1000, concurrency: 1, maxInstances: 1 });

test('an instance gets one core per 1769 MB of memory, at least the floor, at most the ceiling', () => {
  assert.equal(cpuQuotaFor(limits(128), policy), 25, '7 % of a core is raised to the floor');
  assert.equal(cpuQuotaFor(limits(1024), policy), 58);
  assert.equal(cpuQuotaFor(limits(1769), policy), 100);
  assert.equal(cpuQuotaFor(limits(8192), policy), 200, '4.6 cores are capped at the ceiling');
});

test("a function's own quota replaces the derived one, kept within the bounds", () => {
  assert.equal(cpuQuotaFor(limits(128, 150), policy), 150);
  assert.equal(cpuQuotaFor(limits(4096, 30), policy), 30);
  assert.equal(cpuQuotaFor(limits(128, 400), policy), 200, 'an override from before MAX_CPU_QUOTA_PERCENT was lowered');
});

test('the defaults: the floor is 25 %, the ceiling every core of the host', () => {
  assert.deepEqual(loadConfig({}).cpuQuota, { mbPerCore: 1769, minPercent: 25, maxPercent: 100 * os.availableParallelism() });
  assert.deepEqual(loadConfig({ CPU_MB_PER_CORE: '1024', MIN_CPU_QUOTA_PERCENT: '10', MAX_CPU_QUOTA_PERCENT: '400' }).cpuQuota, { mbPerCore: 1024, minPercent: 10, maxPercent: 400 });
  assert.throws(() => loadConfig({ MIN_CPU_QUOTA_PERCENT: '50', MAX_CPU_QUOTA_PERCENT: '40' }), /MAX_CPU_QUOTA_PERCENT must be at least MIN_CPU_QUOTA_PERCENT/);
});

test('load sets the CPU quota, higher or lower than the boot quota; left out, the boot quota stays', () => {
  const booted = resolveLimits({ memoryMb: 512, cpuQuotaPercent: 100 }, 'node');
  assert.equal(narrowLimits(booted, { memoryMb: 128, cpuQuotaPercent: 25 }, 'node').cpuQuotaPercent, 25);
  assert.equal(narrowLimits(booted, { memoryMb: 128, cpuQuotaPercent: 300 }, 'node').cpuQuotaPercent, 300);
  assert.equal(narrowLimits(booted, { memoryMb: 128 }, 'node').cpuQuotaPercent, 100);
  assert.throws(() => narrowLimits(booted, { memoryMb: 1024 }, 'node'), /memoryMb 1024 exceeds/);
});
