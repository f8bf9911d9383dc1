import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HOST_API_LIMITS, DEFAULT_LOAD_SETTINGS, ownerCap, type PoolOptions } from '../../src/config/options.ts';
import type { InvocationTarget } from '../../src/core/invocation.ts';
import type { SandboxInstance } from '../../src/sandbox/driver.ts';
import { shareSlots } from '../../src/executions/owner-slots.ts';
import { ManagedInstance } from '../../src/worker/managed-instance.ts';
import { OwnerShares } from '../../src/worker/owner-shares.ts';
import { newVersionPool, type VersionPool } from '../../src/worker/version-pool.ts';

const options = (over: Partial<PoolOptions> = {}): PoolOptions => ({ idleTtlMs: 60_000, maxQueuedPerFunction: 100, maxQueued: 8, maxTotalInstances: 6, ownerShare: 0.5, cpu: { mbPerCore: 1769, minPercent: 25, maxPercent: 200 }, load: DEFAULT_LOAD_SETTINGS, hostApi: DEFAULT_HOST_API_LIMITS, ...over });

let n = 0;
/** A version pool of `owner` with `busy` instances in use and `idle` ones free (oldest first), and `waiting` invocations queued. */
function pool(owner: string, shape: { busy?: number; idle?: number; waiting?: number; maxInstances?: number }): VersionPool {
  const id = `fn-${++n}`;
  const target = { ownerId: owner, functionId: id, functionName: id, version: 1, limits: { memoryMb: 128, timeoutMs: 1000, concurrency: 1, maxInstances: shape.maxInstances ?? 10 } } as unknown as InvocationTarget;
  const p = newVersionPool(`${id}@1#`, 'invoke', target);
  const add = (inFlight: number, lastUsedAt: number): void => {
    const sandbox = { id: `i-${++n}`, state: inFlight > 0 ? 'busy' : 'ready' } as unknown as SandboxInstance;
    const instance = new ManagedInstance(sandbox, target, p.key, 'invoke', DEFAULT_LOAD_SETTINGS, new Map());
    Object.assign(instance, { inFlight, lastUsedAt });
    p.instances.push(instance);
  };
  for (let i = 0; i < (shape.busy ?? 0); i++) add(1, 0);
  for (let i = 0; i < (shape.idle ?? 0); i++) add(0, 1000 + i);
  for (let i = 0; i < (shape.waiting ?? 0); i++) void p.waiters.wait(Date.now() + 60_000);
  return p;
}
const wakeAll = (pools: VersionPool[]): void => pools.forEach((p) => p.waiters.wakeAll());

test('ownerCap: a share of the total, at least one of any', () => {
  assert.equal(ownerCap(64, 0.5), 32);
  assert.equal(ownerCap(3, 0.5), 1, 'two owners always fit');
  assert.equal(ownerCap(1, 0.5), 1);
  assert.equal(ownerCap(0, 0.5), 0, 'no queue, no waiting');
  assert.equal(ownerCap(8, 1), 8);
});

test('room: free below the owner cap and MAX_INSTANCES; at the cap only by stopping an idle instance of its own', () => {
  const shares = new OwnerShares(options());
  assert.deepEqual(shares.room([pool('a', { busy: 2 })], 'a'), { evict: null });
  const capped = [pool('a', { busy: 2 }), pool('a', { busy: 1 })];
  assert.match((shares.room(capped, 'a') as { full: string }).full, /MAX_OWNER_SHARE/);
  const own = pool('a', { idle: 1 });
  assert.equal((shares.room([pool('a', { busy: 2 }), own, pool('b', { idle: 2 })], 'a') as { evict: ManagedInstance }).evict, own.instances[0]);
});

test("room: a full platform stops the greediest owner's idle instance, never that of an owner holding as few", () => {
  const shares = new OwnerShares(options());
  const greedy = pool('a', { busy: 2, idle: 1 });
  const polite = pool('b', { idle: 1 });
  const other = pool('c', { busy: 2 });
  assert.equal((shares.room([greedy, polite, other], 'd') as { evict: ManagedInstance }).evict, greedy.instances[2], "a's idle instance (a holds 3)");
  // b holds 1, d holds 1: d may not take b's only instance, and nothing else is idle.
  const holdsOne = pool('d', { busy: 1 });
  assert.match((shares.room([pool('a', { busy: 3 }), polite, holdsOne, pool('c', { busy: 1 })], 'd') as { full: string }).full, /MAX_INSTANCES/);
});

test('room: an instance its version waits for is taken only by an owner holding at least two fewer', () => {
  const shares = new OwnerShares(options({ maxTotalInstances: 8 }));
  const contested = pool('a', { busy: 2, idle: 1, waiting: 1 });
  const rest = pool('b', { busy: 5 });
  assert.equal((shares.room([contested, rest, pool('c', { busy: 1 })], 'c') as { evict: ManagedInstance }).evict, contested.instances[2], 'c holds 1, a 3');
  assert.ok('full' in shares.room([contested, rest, pool('c', { busy: 2 })], 'c'), 'c holds 2, a 3: they would trade back and forth');
  wakeAll([contested]);
});

test('nextWaiter: freed room goes to the waiting owner holding the fewest instances, under its cap', () => {
  const shares = new OwnerShares(options());
  const a = pool('a', { busy: 3, waiting: 2 });
  const b = pool('b', { busy: 1, waiting: 1 });
  const atVersionCap = pool('c', { busy: 1, waiting: 1, maxInstances: 1 });
  assert.equal(shares.nextWaiter([a, b, atVersionCap]), b);
  assert.equal(shares.nextWaiter([a, pool('b', { busy: 3 })]), undefined, 'a is at its cap (3 of 6)');
  wakeAll([a, b, atVersionCap]);
});

test("nextWaiter: an idle instance stays with its version's waiters unless an owner with two fewer waits", () => {
  const shares = new OwnerShares(options({ maxTotalInstances: 8 }));
  const released = pool('a', { busy: 2, idle: 1, waiting: 1 });
  const close = pool('b', { busy: 2, waiting: 1 });
  assert.equal(shares.nextWaiter([released, close], released), released, 'b holds 2, a 3');
  const poor = pool('c', { busy: 1, waiting: 1 });
  assert.equal(shares.nextWaiter([released, close, poor], released), poor, 'c holds 1');
  const uncontested = pool('a', { busy: 2, idle: 1 });
  assert.equal(shares.nextWaiter([uncontested, close], uncontested), close, 'nobody of its version waits: b holds fewer');
  wakeAll([released, close, poor]);
});

test('refuseWait: the version, the owner (its share of MAX_QUEUED) and the node each have a limit', () => {
  const shares = new OwnerShares(options({ maxQueuedPerFunction: 3 }));
  assert.equal(shares.refuseWait([], pool('a', {})), undefined);
  const full = pool('a', { waiting: 3 });
  assert.match(shares.refuseWait([full], full)!.message, /Too many invocations of/);
  const mine = [pool('a', { waiting: 2 }), pool('a', { waiting: 2 })];
  assert.match(shares.refuseWait(mine, mine[0]!)!.message, /4 of your invocations.*MAX_OWNER_SHARE/);
  const everyone = [pool('b', { waiting: 3 }), pool('c', { waiting: 3 }), pool('d', { waiting: 2 })];
  const e = pool('e', {});
  assert.match(shares.refuseWait([...everyone, e], e)!.message, /MAX_QUEUED/);
  wakeAll([full, ...mine, ...everyone]);
});

test('shareSlots: each free slot to the owner with the fewest running, within the cap, round-robin among equals', () => {
  const running = (counts: Record<string, number>) => (o: string) => counts[o] ?? 0;
  assert.deepEqual(shareSlots(['a', 'b'], running({ a: 3 }), 4, 4), new Map([['b', 3], ['a', 1]]));
  assert.deepEqual(shareSlots(['a', 'b'], running({ a: 4, b: 4 }), 4, 4), new Map(), 'both at their cap');
  assert.deepEqual([...shareSlots(['a', 'b', 'c', 'd'], running({}), 2, 4).keys()], ['a', 'b']);
  assert.deepEqual([...shareSlots(['a', 'b', 'c', 'd'], running({}), 2, 4, 'b').keys()], ['c', 'd'], 'the turn goes on after the last served');
  assert.deepEqual([...shareSlots(['a', 'b', 'c', 'd'], running({}), 2, 4, 'd').keys()], ['a', 'b'], 'and wraps');
});
