import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { StemPool } from '../../src/worker/stem-pool.ts';
import type { SandboxDriver } from '../../src/sandbox/driver.ts';

const unusedDriver: SandboxDriver = {
  name: 'unused',
  probe: () => Promise.reject(new Error('not called: the pool is never filled here')),
  start: () => Promise.reject(new Error('not called: the pool is never filled here')),
};

test('a Node stem cell serves only its own memory size; other runtimes serve their size and below', () => {
  const pool = new StemPool(unusedDriver, { size: 1, runtimes: ['node', 'python', 'php'], limits: { memoryMb: 512 }, limitsFor: { node: { memoryMb: 128 } }, log: pino({ level: 'silent' }) });
  // V8's heap limit is fixed at process start: a 128 MB function in a bigger Node stem could outgrow its cgroup.
  assert.equal(pool.fits('node', 128), true);
  assert.equal(pool.fits('node', 64), false);
  assert.equal(pool.fits('node', 256), false);
  assert.equal(pool.fits('wasm', 128), true, 'wasm runs in node stem cells');
  assert.equal(pool.fits('wasm', 64), false);
  assert.equal(pool.fits('python', 64), true);
  assert.equal(pool.fits('python', 512), true);
  assert.equal(pool.fits('python', 1024), false);
  assert.equal(pool.fits('command', 256), true, 'command runs in python stem cells');
  assert.equal(pool.fits('php', 128), true);
});
