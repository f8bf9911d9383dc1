/**
 * Conformance under concurrency: what must hold when writers race (several processes on PostgreSQL; on
 * SQLite, concurrent calls on one store). Run with store.case.ts by sqlite.test.ts and postgres.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newId, newTimeOrderedId, nowIso } from '../../src/core/ids.ts';
import { ExposureConflictError, type NewQueuedExecution, type NewVersion, type Store } from '../../src/core/ports/store.ts';
import { checkRoute } from '../../src/functions/route-pattern.ts';
import type { OpenStore } from './store.case.ts';

/** Opens a store; `second` opens another on the same database when the backend allows it (another process's view). */
export type OpenShared = () => Promise<{ store: Store; second: Store; dispose(): Promise<void> }>;

const version = (): NewVersion => ({
  id: newId(), runtime: 'node', handler: 'index.handler', memoryMb: 128, cpuQuotaPercent: null, timeoutMs: 30_000, env: {}, concurrency: 1, maxInstances: 10, maxAttempts: 3,
  secrets: [], stream: { minFree: 0, idleTimeoutMs: 900_000 }, eventShape: 'http', codeHash: 'a'.repeat(64), codeSource: 'inline', codeSize: 10,
});

const queued = (ownerId: string, functionId: string, overrides: Partial<NewQueuedExecution> = {}): NewQueuedExecution => ({
  id: newTimeOrderedId(), ownerId, functionId, functionName: 'f', version: 1, timeoutMs: 1000, inputJson: '{}', maxAttempts: 2,
  idempotencyKey: null, requestHash: 'h', availableAt: Date.now() - 1, createdAt: nowIso(), ...overrides,
});

export function runConcurrencyConformance(name: string, open: OpenShared, options: { skip?: string | false } = {}): void {
  describe(`store conformance under concurrency: ${name}`, { skip: options.skip }, () => {
    const withStores = (title: string, body: (a: Store, b: Store) => Promise<void>) =>
      test(title, async () => {
        const { store, second, dispose } = await open();
        try {
          await body(store, second);
        } finally {
          await dispose();
        }
      });
    const setup = async (store: Store) => {
      const alice = (await store.users.create({ id: newId(), username: 'alice', passwordHash: 'x', createdAt: nowIso() }))!;
      const bob = (await store.users.create({ id: newId(), username: 'bob', passwordHash: 'y', createdAt: nowIso() }))!;
      const fn = (await store.functions.create({ id: newId(), ownerId: alice.id, name: 'f', at: nowIso(), version: version() }))!;
      return { alice, bob, fn };
    };

    withStores('a claim of one execution from two stores: exactly one winner', async (a, b) => {
      const { alice, fn } = await setup(a);
      for (let round = 0; round < 5; round++) {
        const { execution } = await a.executions.insertQueued(queued(alice.id, fn.id));
        const claims = await Promise.all([...Array(6).keys()].map((i) => (i % 2 ? a : b).executions.claim(execution.id, `w${i}`, Date.now(), 30_000)));
        assert.equal(claims.filter((c) => c !== undefined).length, 1, `round ${round}`);
      }
    });

    withStores('leases by two workers at once take disjoint sets, and together all of it', async (a, b) => {
      const { alice, fn } = await setup(a);
      const now = Date.now();
      for (let n = 0; n < 40; n++) await a.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now - 1000 + n }));
      const batches = await Promise.all([...Array(8).keys()].map((i) => (i % 2 ? a : b).executions.lease(`w${i}`, now, 5, 30_000)));
      const ids = batches.flat().map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'no execution leased twice');
      assert.equal(ids.length, 40);
      assert.ok(batches.every((batch) => batch.length <= 5));
    });

    withStores('insertQueued with one idempotency key from two stores at once: one execution', async (a, b) => {
      const { alice, fn } = await setup(a);
      const results = await Promise.all([...Array(6).keys()].map((i) => (i % 2 ? a : b).executions.insertQueued(queued(alice.id, fn.id, { idempotencyKey: 'once' }), { outbox: { subject: 's', payload: String(i) } })));
      assert.equal(results.filter((r) => !r.existing).length, 1);
      assert.equal(new Set(results.map((r) => r.execution.id)).size, 1);
      assert.equal(await a.executions.countQueued(), 1);
      assert.equal((await a.executions.takeOutbox(10)).length, 1, 'announced once');
    });

    withStores('one object name uploaded from two stores at once: one object, the others replaced', async (a, b) => {
      const { alice, fn } = await setup(a);
      const puts = await Promise.all([...Array(6).keys()].map((i) => (i % 2 ? a : b).objects.put({ id: newId(), ownerId: alice.id, functionId: fn.id, name: 'same.txt', size: i, contentType: 'text/plain', sha256: 'x', createdAt: nowIso() })));
      const objects = await a.objects.list(alice.id, fn.id);
      assert.equal(objects.length, 1, 'one object of that name');
      assert.equal(puts.filter((p) => p.replacedId === null).length, 1, 'the first created it, each other replaced one');
    });

    withStores('two owners deploying the same route at once: one wins, the other conflicts', async (a, b) => {
      const { alice, bob } = await setup(a);
      for (const [round, method] of (['GET', 'ANY'] as const).entries()) {
        const path = `/race/${round}`;
        const deploy = (store: Store, ownerId: string) =>
          store.functions.create({ id: newId(), ownerId, name: `r${round}`, at: nowIso(), version: version(), exposure: { routes: [checkRoute({ method: ownerId === alice.id ? 'GET' : method, path })], public: true } });
        const results = await Promise.allSettled([deploy(a, alice.id), deploy(b, bob.id)]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        assert.equal(won.length, 1, `round ${round}: ${results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join(', ')}`);
        assert.ok(lost[0].reason instanceof ExposureConflictError, String(lost[0].reason));
        const snapshot = await a.routes.snapshot();
        assert.equal(snapshot.routes.filter((r) => r.path === path).length, 1);
        assert.equal(snapshot.publicFunctions.filter((p) => p.name === `r${round}`).length, 1);
      }
    });
  });
}

/** For a backend without a second handle on one database: the same store twice. */
export const sameStoreTwice = (open: OpenStore): OpenShared => async () => {
  const { store, dispose } = await open();
  return { store, second: store, dispose };
};
