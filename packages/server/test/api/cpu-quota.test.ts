import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode, testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

// Three threads spin for `ms`; the answer is the CPU the whole process used per second of wall time
// (process.cpuUsage counts every thread), as the kernel accounts it.
const SPINNER = `
import { Worker } from 'node:worker_threads';
const spin = 'const end = Date.now() + ' + '$MS' + '; while (Date.now() < end) {}';
export const handler = async ({ ms }) => {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await Promise.all([1, 2, 3].map(() => new Promise((resolve, reject) => {
    const worker = new Worker(spin.replace('$MS', String(ms)), { eval: true });
    worker.on('exit', resolve).on('error', reject);
  })));
  const used = process.cpuUsage(cpu);
  return { coresUsed: (used.user + used.system) / 1000 / (performance.now() - wall) };
};`;

describe('every instance has a CPU quota', { skip }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1', MIN_CPU_QUOTA_PERCENT: '25', MAX_CPU_QUOTA_PERCENT: '150' });
    alice = (await p.user('alice')).auth;
  });
  after(() => p.close());

  const deploy = (payload: object) => p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { runtime: 'node', code: SPINNER, timeoutMs: 20_000, ...payload } });
  const spin = async (name: string): Promise<{ coresUsed: number; instanceId: string }> => {
    const res = await p.api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke`, headers: { ...alice, 'content-type': 'application/json' }, payload: JSON.stringify({ ms: 1500 }) });
    const e = res.json();
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    return { ...e.result, instanceId: e.instanceId };
  };
  const quotaOf = async (instanceId: string): Promise<number> => {
    const { instances } = (await p.api.inject({ method: 'GET', url: '/api/v1/metrics/workers', headers: alice })).json() as { instances: Array<{ id: string; raw: { cpuCores: number } | null }> };
    for (let i = 0; i < 50; i++) {
      const raw = instances.find((x) => x.id === instanceId)?.raw;
      if (raw) return raw.cpuCores;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the instance was never sampled');
  };

  test('a 128 MB function spinning three threads is held to the quota its size gives (the floor, 25 %)', async () => {
    const res = await deploy({ name: 'spinner-small', memoryMb: 128 });
    assert.equal(res.statusCode, 201, res.body);
    const { coresUsed, instanceId } = await spin('spinner-small');
    // Unlimited, three threads took 1.85 of the 2 cores. CFS lets a burst overshoot by up to one period.
    assert.ok(coresUsed < 0.25 * 1.3, `used ${coresUsed.toFixed(2)} cores under a 25 % quota`);
    assert.equal(res.json().cpuQuotaPercent, null, 'no quota of its own: derived from memoryMb');
    assert.equal(await quotaOf(instanceId), 0.25);
  });

  test('cpuQuotaPercent overrides the derived quota, within MIN_CPU_QUOTA_PERCENT..MAX_CPU_QUOTA_PERCENT', async () => {
    const res = await deploy({ name: 'spinner-half', memoryMb: 128, cpuQuotaPercent: 50 });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().cpuQuotaPercent, 50);
    const { coresUsed, instanceId } = await spin('spinner-half');
    assert.ok(coresUsed < 0.5 * 1.3, `used ${coresUsed.toFixed(2)} cores under a 50 % quota`);
    assert.equal(await quotaOf(instanceId), 0.5);
    for (const cpuQuotaPercent of [10, 151]) {
      const refused = await deploy({ name: `spinner-${cpuQuotaPercent}`, cpuQuotaPercent });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(errorCode(refused), 'VALIDATION_FAILED');
      assert.match(refused.json().error.message, /from 25 to 150/);
    }
    // Back to the derived quota with null; left out, an update keeps the function's own.
    const id = res.json().id as string;
    const kept = await p.api.inject({ method: 'PUT', url: `/api/functions/${id}`, headers: alice, payload: { timeoutMs: 10_000 } });
    assert.equal(kept.json().cpuQuotaPercent, 50);
    const reset = await p.api.inject({ method: 'PUT', url: `/api/functions/${id}`, headers: alice, payload: { cpuQuotaPercent: null } });
    assert.equal(reset.json().cpuQuotaPercent, null);
  });
});
