import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

const SLEEPER = 'export const handler = async (e) => { if (e.ms) await new Promise((r) => setTimeout(r, e.ms)); return "ok"; };';

type Auth = Record<string, string>;
interface Record_ { id: string; status: string; coldStart: boolean; durationMs: number; error: { reason: string } | null }

function helpers(p: () => TestPlatform) {
  const deploy = async (auth: Auth, payload: object): Promise<{ id: string; name: string }> => {
    const res = await p().api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { runtime: 'node', code: SLEEPER, ...payload } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };
  const invoke = (auth: Auth, name: string, event: object, extra: Auth = {}) =>
    p().api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke`, headers: { ...auth, ...extra, 'content-type': 'application/json' }, payload: JSON.stringify(event) });
  const instancesOf = async (auth: Auth, functionId: string): Promise<Array<{ inFlight: number; state: string }>> =>
    ((await p().api.inject({ method: 'GET', url: '/api/vms', headers: auth })).json().items as Array<{ functionId: string; inFlight: number; state: string }>).filter((i) => i.functionId === functionId);
  const until = async (what: string, probe: () => Promise<boolean>, ms = 15_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // Deleting a function stops its idle instances and cancels its queued executions: the next test starts clean.
  const remove = async (auth: Auth, ...ids: string[]): Promise<void> => {
    for (const id of ids) {
      const res = await p().api.inject({ method: 'DELETE', url: `/api/functions/${id}`, headers: auth });
      assert.equal(res.statusCode, 204, res.body);
    }
  };
  return { deploy, invoke, instancesOf, until, remove };
}

describe('one owner cannot take the instances and queue slots from the others', { skip }, () => {
  let p: TestPlatform;
  let alice: Auth;
  let bob: Auth;
  let carol: Auth;
  // 4 instances, at most 2 (MAX_OWNER_SHARE 0.5) per owner; 6 waiting invocations, at most 3 per owner.
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1', MAX_INSTANCES: '4', MAX_QUEUED: '6' });
    alice = (await p.user('alice')).auth;
    bob = (await p.user('bob')).auth;
    carol = (await p.user('carol')).auth;
  });
  after(() => p.close());
  const { deploy, invoke, instancesOf, until, remove } = helpers(() => p);

  test("a flood from one owner leaves another's warm function warm and lets its new one start", async () => {
    const warm = await deploy(bob, { name: 'bob-warm', timeoutMs: 4000 });
    const first = (await invoke(bob, warm.name, {})).json() as Record_;
    assert.equal(first.status, 'succeeded', JSON.stringify(first.error));
    const hog = await deploy(alice, { name: 'alice-hog', maxInstances: 10, timeoutMs: 5000 });
    const flood = Array.from({ length: 12 }, () => invoke(alice, hog.name, { ms: 3000 }));
    await until("alice's instances to be busy", async () => (await instancesOf(alice, hog.id)).filter((i) => i.inFlight > 0).length >= 2);
    // Time for more of alice's starts, which before shares took every instance (bob's idle one by eviction).
    await new Promise((r) => setTimeout(r, 1000));

    const warmAgain = (await invoke(bob, warm.name, {})).json() as Record_;
    assert.equal(warmAgain.status, 'succeeded', JSON.stringify(warmAgain.error));
    assert.equal(warmAgain.coldStart, false, "bob's warm instance was not evicted for alice");
    assert.ok(warmAgain.durationMs < 1000, `bob's warm invocation took ${warmAgain.durationMs} ms`);

    const fresh = await deploy(bob, { name: 'bob-fresh', timeoutMs: 4000 });
    const cold = (await invoke(bob, fresh.name, {})).json() as Record_;
    assert.equal(cold.status, 'succeeded', JSON.stringify(cold.error));
    assert.ok(cold.durationMs < 3000, `bob's new function took ${cold.durationMs} ms`);
    assert.ok((await instancesOf(alice, hog.id)).length <= 2, 'alice holds at most her share of MAX_INSTANCES');

    // Alice's own excess waited (at most 3 of hers at a time) or was refused: 429, never another owner's capacity.
    const answers = await Promise.all(flood);
    const refused = answers.filter((r) => r.statusCode === 429);
    assert.ok(refused.length >= 12 - 2 - 3, `${refused.length} of alice's invocations were refused`);
    assert.match(refused[0]!.json().error.message, /your invocations are waiting|MAX_OWNER_SHARE/i);
    for (const r of answers.filter((a) => a.statusCode !== 429)) assert.equal(r.statusCode, 200, r.body);
    await remove(alice, hog.id);
    await remove(bob, warm.id, fresh.id);
  });

  test("capacity freed by a greedy owner goes to a waiting owner with fewer instances, not the greedy owner's queue", async () => {
    // alice and bob fill the 4 instances; alice keeps a queue of her own.
    const a = await deploy(alice, { name: 'alice-busy', maxInstances: 2, timeoutMs: 8000 });
    const b = await deploy(bob, { name: 'bob-busy', maxInstances: 2, timeoutMs: 8000 });
    const bobs = [invoke(bob, b.name, { ms: 6000 }), invoke(bob, b.name, { ms: 6000 })];
    const alices = Array.from({ length: 5 }, () => invoke(alice, a.name, { ms: 1500 }));
    await until('four busy instances', async () =>
      (await instancesOf(alice, a.id)).filter((i) => i.inFlight > 0).length === 2 && (await instancesOf(bob, b.id)).filter((i) => i.inFlight > 0).length === 2);
    // carol holds nothing: when one of alice's invocations ends, its instance is hers (bob's last 6 s).
    const c = await deploy(carol, { name: 'carol-new', timeoutMs: 4000 });
    const started = Date.now();
    const e = (await invoke(carol, c.name, {})).json() as Record_;
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.ok(Date.now() - started < 3500, `carol waited ${Date.now() - started} ms`);
    await Promise.all([...bobs, ...alices]);
    await remove(alice, a.id);
    await remove(bob, b.id);
    await remove(carol, c.id);
  });
});

describe('async executions: one owner\'s backlog does not hold up another owner', { skip }, () => {
  let p: TestPlatform;
  let alice: Auth;
  let bob: Auth;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1', ASYNC_CONCURRENCY: '2' });
    alice = (await p.user('alice')).auth;
    bob = (await p.user('bob')).auth;
  });
  after(() => p.close());
  const { deploy, invoke, remove } = helpers(() => p);

  test("bob's single execution runs while alice has 30 queued", async () => {
    const slow = await deploy(alice, { name: 'alice-batch', maxInstances: 4 });
    const quick = await deploy(bob, { name: 'bob-once' });
    const asyncly = { 'x-invocation-type': 'async' };
    const queued = await Promise.all(Array.from({ length: 30 }, () => invoke(alice, slow.name, { ms: 400 }, asyncly)));
    for (const r of queued) assert.equal(r.statusCode, 202, r.body);
    const mine = await invoke(bob, quick.name, {}, asyncly);
    assert.equal(mine.statusCode, 202, mine.body);
    const id = mine.json().id as string;
    const enqueued = Date.now();
    for (;;) {
      const e = (await p.api.inject({ method: 'GET', url: `/api/executions/${id}`, headers: bob })).json() as Record_;
      if (e.status !== 'queued' && e.status !== 'running') {
        assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
        break;
      }
      // Behind alice's backlog it would wait 30 × 400 ms / 2 = 6 s.
      assert.ok(Date.now() - enqueued < 2500, "bob's execution is still waiting behind alice's backlog");
      await new Promise((r) => setTimeout(r, 50));
    }
    await remove(alice, slow.id);
    await remove(bob, quick.id);
  });
});
