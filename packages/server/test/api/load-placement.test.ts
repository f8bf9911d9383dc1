import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

// `burnMs` keeps the instance's CPU busy after the invocation returned (40 ms chunks, so it still
// answers in between); `sleepMs` holds a slot without using CPU.
const CODE = `
export const handler = async (e) => {
  if (e.burnMs) {
    const end = Date.now() + e.burnMs;
    const chunk = () => { const s = Date.now(); while (Date.now() - s < 40) {} if (Date.now() < end) setImmediate(chunk); };
    setImmediate(chunk);
    return 'burning';
  }
  if (e.sleepMs) await new Promise((r) => setTimeout(r, e.sleepMs));
  return 'ok';
};`;

interface InstanceLoad { id: string; functionId: string; score: number; inFlight: number; state: string; ema: { cpu: number } | null }

describe('load-aware placement', { skip }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  before(async () => {
    // Faster sampling and a low threshold: on 2 shared cores a busy loop may not get a whole core.
    p = await testPlatform({ WARM_POOL_SIZE: '1', LOAD_SAMPLE_INTERVAL_MS: '200', LOAD_EMA_FACTOR: '0.5', LOAD_SATURATION_SCORE: '0.2' });
    alice = (await p.user('alice')).auth;
  });
  after(() => p.close());

  const deploy = async (payload: object) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { runtime: 'node', code: CODE, ...payload } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; name: string };
  };
  const invoke = async (name: string, event: object) => {
    const res = await p.api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke`, headers: { ...alice, 'content-type': 'application/json' }, payload: JSON.stringify(event) });
    assert.equal(res.statusCode, 200, res.body);
    const e = res.json();
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    return e as { instanceId: string; coldStart: boolean };
  };
  // Deleting the function stops its idle instances at once, which ends a burn early (the machine is shared).
  const remove = async (id: string) => assert.equal((await p.api.inject({ method: 'DELETE', url: `/api/functions/${id}`, headers: alice })).statusCode, 204);
  const loads = async (functionId: string): Promise<InstanceLoad[]> =>
    ((await p.api.inject({ method: 'GET', url: '/api/v1/metrics/workers', headers: alice })).json().instances as InstanceLoad[]).filter((i) => i.functionId === functionId);
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  test('invocations go to the less loaded instance, even one with more invocations in flight', async () => {
    const fn = await deploy({ name: 'placed', concurrency: 8, maxInstances: 2 });
    // More concurrent sleepers than one instance has slots: a second instance starts.
    await Promise.all(Array.from({ length: 10 }, () => invoke('placed', { sleepMs: 300 })));
    await until('two idle instances', async () => {
      const list = await loads(fn.id);
      return list.length === 2 && list.every((i) => i.inFlight === 0 && i.state === 'ready') ? list : undefined;
    });
    const loaded = (await invoke('placed', { burnMs: 10_000 })).instanceId;
    const other = (await loads(fn.id)).find((i) => i.id !== loaded)!.id;
    // The in-flight share of one invocation is 1/8: wait until the CPU load outweighs it clearly.
    await until('the burning instance to score clearly higher', async () => {
      const list = await loads(fn.id);
      const [a, b] = [list.find((i) => i.id === loaded), list.find((i) => i.id === other)];
      return a && b && a.score > b.score + 0.125 + 0.05 ? true : undefined;
    });
    const sleeper = invoke('placed', { sleepMs: 2000 });
    await until('the sleeper to hold a slot', async () => ((await loads(fn.id)).some((i) => i.inFlight === 1) ? true : undefined));
    // The old rule (fewest in flight) would now choose the loaded instance; the score does not.
    for (let n = 0; n < 5; n++) {
      const e = await invoke('placed', {});
      assert.equal(e.instanceId, other, `invocation ${n} went to the loaded instance`);
    }
    assert.equal((await sleeper).instanceId, other);
    await remove(fn.id);
  });

  test('a saturated instance (score over the threshold) makes the version scale out before its slots run out', async () => {
    const fn = await deploy({ name: 'saturating', concurrency: 8, maxInstances: 2 });
    const only = await invoke('saturating', { burnMs: 10_000 });
    await until('the instance to saturate', async () => {
      const [one] = await loads(fn.id);
      return one !== undefined && one.score >= 0.2 ? true : undefined;
    });
    assert.equal((await loads(fn.id)).length, 1);
    // One slot of eight in use at a time: only the score can ask for another instance.
    const e = await invoke('saturating', {});
    assert.equal(e.instanceId, only.instanceId, 'served at once on the saturated instance');
    const list = await until('a second instance', async () => {
      const now = await loads(fn.id);
      return now.length === 2 ? now : undefined;
    });
    const fresh = list.find((i) => i.id !== only.instanceId)!;
    assert.equal((await invoke('saturating', {})).instanceId, fresh.id, 'the new instance takes the next invocation');
    await remove(fn.id);
  });
});
