import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOAD_SETTINGS } from '../../src/config/options.ts';
import type { HeartbeatInstance, WorkerHeartbeat } from '../../src/core/ports/workers.ts';
import { KeyValueHeartbeatStore, MemoryHeartbeatStore, type HeartbeatKeyValue } from '../../src/cluster/heartbeat-stores.ts';
import { RegistryClusterView } from '../../src/cluster/registry-cluster-view.ts';
import { WorkerRegistry } from '../../src/cluster/registry.ts';

const INTERVAL = 1000;
const idleLoad = { raw: null, utilisation: null, ema: null, score: 0, saturated: false };

function instance(id: string, workerId: string, ownerId: string | null, functionId: string | null): HeartbeatInstance {
  return {
    id, workerId, ownerId, functionId, functionName: functionId === null ? null : `fn-${functionId}`, version: functionId === null ? null : 1, runtime: 'node',
    state: 'ready', kind: functionId === null ? 'stem' : 'invoke', pid: 100, memoryBytes: 1024, uptimeMs: 5000, invocations: 3, inFlight: 0, idleMs: 1000,
    concurrency: 1, load: { ...idleLoad, score: 0.25 },
  };
}

function heartbeat(id: string, overrides: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    id, roles: ['worker'], pid: 42, host: 'h', startedAt: 1_000, sentAt: 1_000, intervalMs: INTERVAL, state: 'ready',
    capacity: { maxConcurrentExecutions: 10, maxInstances: 50 }, inFlight: 0, queued: 0,
    load: { id, pid: 42, cores: 4, instances: 0, stemCells: 0, inFlight: 0, ...idleLoad }, instances: [], warm: [], ...overrides,
  };
}

function clocked() {
  const clock = { now: 10_000 };
  const store = new MemoryHeartbeatStore({ ttlMs: 10 * INTERVAL, now: () => clock.now });
  const registry = new WorkerRegistry({ store, heartbeatIntervalMs: INTERVAL, cacheMs: 0, now: () => clock.now });
  return { clock, store, registry };
}

test('a worker that missed 3 heartbeats is out of ready() and listed lost, until the store forgets it', async () => {
  const { clock, store, registry } = clocked();
  await store.put(heartbeat('a'));
  await store.put(heartbeat('b'));
  assert.deepEqual((await registry.ready()).map((w) => w.id), ['a', 'b']);
  clock.now += 2 * INTERVAL;
  await store.put(heartbeat('b'));
  clock.now += 1.5 * INTERVAL; // a: 3.5 intervals silent; b: 1.5
  assert.deepEqual((await registry.list()).map((w) => [w.id, w.status]), [['a', 'lost'], ['b', 'ready']]);
  assert.deepEqual((await registry.ready()).map((w) => w.id), ['b']);
  assert.deepEqual((await registry.live()).map((w) => w.id), ['b']);
  await store.put(heartbeat('a'));
  assert.equal((await registry.list())[0].status, 'ready', 'a heartbeat again brings it back');
  clock.now += 11 * INTERVAL;
  assert.deepEqual(await registry.list(), [], 'past the store\'s TTL both are forgotten');
});

test('a draining worker is listed but not placed on; a removed one is gone', async () => {
  const { store, registry } = clocked();
  await store.put(heartbeat('a', { state: 'draining' }));
  await store.put(heartbeat('b'));
  assert.deepEqual((await registry.list()).map((w) => [w.id, w.status]), [['a', 'draining'], ['b', 'ready']]);
  assert.deepEqual((await registry.ready()).map((w) => w.id), ['b']);
  await registry.remove('b');
  assert.deepEqual((await registry.list()).map((w) => w.id), ['a']);
});

test('the view is cached for half an interval, so placement reads are cheap', async () => {
  const clock = { now: 0 };
  const store = new MemoryHeartbeatStore({ now: () => clock.now });
  let reads = 0;
  const counting = { put: (h: WorkerHeartbeat) => store.put(h), remove: (id: string) => store.remove(id), all: () => (reads++, store.all()) };
  const registry = new WorkerRegistry({ store: counting, heartbeatIntervalMs: INTERVAL, now: () => clock.now });
  await counting.put(heartbeat('a'));
  await registry.ready();
  await registry.list();
  assert.equal(reads, 1);
  clock.now += INTERVAL / 2;
  await registry.ready();
  assert.equal(reads, 2);
});

test('RegistryClusterView: owners see their own instances on every worker, admins all with one load entry per worker', async () => {
  const { store, registry } = clocked();
  await store.put(heartbeat('w1', { instances: [instance('i1', 'w1', 'alice', 'fa'), instance('s1', 'w1', null, null)] }));
  await store.put(heartbeat('w2', { instances: [instance('i2', 'w2', 'bob', 'fb'), instance('i3', 'w2', 'alice', 'fa')] }));
  await store.put(heartbeat('gone', { instances: [instance('i4', 'gone', 'alice', 'fa')] }));
  const view = new RegistryClusterView({ registry, load: DEFAULT_LOAD_SETTINGS, details: { system: () => Promise.reject(new Error('unused')), sessionPools: async () => [] }, now: () => 10_000 });
  await store.remove('gone');
  const alice = { userId: 'alice', role: 'user' as const, via: 'jwt' as const };
  const admin = { userId: 'root', role: 'admin' as const, via: 'jwt' as const };
  const mine = await view.instances(alice);
  assert.deepEqual(mine.map((i) => [i.id, i.workerId]), [['i1', 'w1'], ['i3', 'w2']]);
  assert.ok(mine.every((i) => !('ownerId' in i) && !('load' in i)), 'the owner is not shown');
  assert.deepEqual((await view.instances(admin)).map((i) => i.id), ['i1', 's1', 'i2', 'i3']);
  const aliceLoad = await view.load(alice);
  assert.equal(aliceLoad.workers, null);
  assert.deepEqual(aliceLoad.instances.map((i) => [i.id, i.score]), [['i1', 0.25], ['i3', 0.25]]);
  const adminLoad = await view.load(admin);
  assert.deepEqual(adminLoad.workers?.map((w) => w.id), ['w1', 'w2']);
  assert.deepEqual(adminLoad.instances.map((i) => i.id), ['i1', 'i2', 'i3'], 'stem cells have no load entry');
});

test('KeyValueHeartbeatStore keeps one JSON entry per worker in a key-value bucket and skips what is not a heartbeat', async () => {
  const map = new Map<string, { value: string; updatedAt: number }>();
  const kv: HeartbeatKeyValue & { get(key: string): Promise<string | undefined> } = {
    put: async (key, value) => void map.set(key, { value, updatedAt: 5_000 }),
    get: async (key) => map.get(key)?.value,
    delete: async (key) => void map.delete(key),
    entries: async () => [...map].map(([key, e]) => ({ key, ...e })),
  };
  const store = new KeyValueHeartbeatStore(kv);
  await store.put(heartbeat('a'));
  await store.put(heartbeat('a', { state: 'draining' }));
  map.set('worker.broken', { value: '{not json', updatedAt: 5_000 });
  map.set('other', { value: JSON.stringify(heartbeat('x')), updatedAt: 5_000 });
  const all = await store.all();
  assert.deepEqual(all.map((h) => [h.id, h.state, h.receivedAt]), [['a', 'draining', 5_000]]);
  assert.deepEqual(JSON.parse((await kv.get('worker.a'))!), heartbeat('a', { state: 'draining' }));
  await store.remove('a');
  assert.deepEqual(await store.all(), []);
});
