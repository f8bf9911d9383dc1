/**
 * The store conformance suite: what every Store implementation (core/ports/store.ts) must do. Run by
 * test/store/sqlite.test.ts and test/store/postgres.test.ts; concurrency-dependent cases in store-concurrency.case.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newId, newTimeOrderedId, nowIso } from '../../src/core/ids.ts';
import { executionError } from '../../src/core/invocation.ts';
import type { FinishedExecution, NewQueuedExecution, NewVersion, Store } from '../../src/core/ports/store.ts';
import { checkRoute } from '../../src/functions/route-pattern.ts';

export type OpenStore = () => Promise<{ store: Store; dispose(): Promise<void> }>;

const version = (codeHash = 'a'.repeat(64)): NewVersion => ({
  id: newId(), runtime: 'node', handler: 'index.handler', memoryMb: 128, cpuQuotaPercent: null, timeoutMs: 30_000, env: { A: '1' }, concurrency: 1, maxInstances: 10, maxAttempts: 3,
  secrets: [], stream: { minFree: 0, idleTimeoutMs: 900_000 }, eventShape: 'http', codeHash, codeSource: 'inline', codeSize: 10,
});

function queued(ownerId: string, functionId: string, overrides: Partial<NewQueuedExecution> = {}): NewQueuedExecution {
  return {
    id: newTimeOrderedId(), ownerId, functionId, functionName: 'f', version: 1, timeoutMs: 1000, inputJson: '{"n":1}', maxAttempts: 2,
    idempotencyKey: null, requestHash: 'h1', availableAt: Date.now() - 1, createdAt: nowIso(), ...overrides,
  };
}

function finished(ownerId: string, functionId: string, n: number): FinishedExecution {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  return {
    id: newTimeOrderedId(), ownerId, functionId, functionName: 'f', version: 1, mode: 'sync', status: 'succeeded', input: { n }, result: { ok: n }, error: null,
    logs: `log ${n}`, logsTruncated: false, durationMs: 1.25, coldStart: n === 0, instanceId: 'fn-1', workerId: 'w-a', attempts: 1, maxAttempts: 1, timeoutMs: 1000,
    createdAt: at, startedAt: at, finishedAt: at,
  };
}

export function runStoreConformance(name: string, open: OpenStore, options: { skip?: string | false } = {}): void {
  describe(`store conformance: ${name}`, { skip: options.skip }, () => {
    const withStore = (title: string, body: (store: Store) => Promise<void>) =>
      test(title, async () => {
        const { store, dispose } = await open();
        try {
          await body(store);
        } finally {
          await dispose();
        }
      });
    const twoUsers = async (store: Store) => {
      const alice = (await store.users.create({ id: newId(), username: 'alice', passwordHash: 'x', createdAt: nowIso() }))!;
      const bob = (await store.users.create({ id: newId(), username: 'bob', passwordHash: 'y', createdAt: nowIso() }))!;
      const fn = (await store.functions.create({ id: newId(), ownerId: alice.id, name: 'f', at: nowIso(), version: version() }))!;
      return { alice, bob, fn };
    };

    withStore('users: the first is admin, names are unique, credentials are found by name', async (store) => {
      const { alice, bob } = await twoUsers(store);
      assert.equal(alice.role, 'admin');
      assert.equal(bob.role, 'user');
      assert.equal(await store.users.create({ id: newId(), username: 'alice', passwordHash: 'z', createdAt: nowIso() }), undefined);
      assert.equal((await store.users.findCredentials('bob'))?.passwordHash, 'y');
      assert.deepEqual((await store.users.list()).map((u) => u.username).sort(), ['alice', 'bob']);
      assert.ok(await store.ping());
    });

    withStore('api keys: found by hash while active, listed and revoked by their owner only', async (store) => {
      const { alice, bob } = await twoUsers(store);
      const key = await store.apiKeys.create({ id: newId(), userId: alice.id, name: 'k', prefix: 'sk_1', keyHash: 'hash-1', createdAt: nowIso() });
      assert.equal((await store.apiKeys.findActiveByHash('hash-1'))?.userId, alice.id);
      assert.equal(await store.apiKeys.revoke(bob.id, key.id, nowIso()), false);
      assert.equal((await store.apiKeys.listForUser(bob.id)).length, 0);
      assert.equal(await store.apiKeys.revoke(alice.id, key.id, nowIso()), true);
      assert.equal(await store.apiKeys.findActiveByHash('hash-1'), undefined);
    });

    withStore('functions: versions are immutable and appended; another owner sees nothing', async (store) => {
      const { alice, bob, fn } = await twoUsers(store);
      const v2 = await store.functions.addVersion(alice.id, fn.id, { ...version('b'.repeat(64)), memoryMb: 256 }, nowIso());
      assert.equal(v2?.version, 2);
      assert.equal((await store.functions.findByName(alice.id, 'f'))?.memoryMb, 256);
      assert.equal((await store.functions.getVersion(alice.id, fn.id, 1))?.memoryMb, 128);
      assert.deepEqual((await store.functions.listVersions(alice.id, fn.id))?.map((v) => v.version), [2, 1]);
      assert.equal(await store.functions.findById(bob.id, fn.id), undefined);
      assert.equal(await store.functions.addVersion(bob.id, fn.id, version(), nowIso()), undefined);
      assert.equal(await store.functions.create({ id: newId(), ownerId: alice.id, name: 'f', at: nowIso(), version: version() }), undefined);
      assert.deepEqual([...(await store.functions.codeHashesInUse())].sort(), ['a'.repeat(64), 'b'.repeat(64)]);
      assert.equal(await store.functions.delete(bob.id, fn.id), false);
      assert.equal(await store.functions.delete(alice.id, fn.id), true);
      assert.equal(await store.functions.findById(alice.id, fn.id), undefined);
    });

    withStore('executions: queued with an idempotency key once; the key again returns the first', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const first = await store.executions.insertQueued(queued(alice.id, fn.id, { idempotencyKey: 'k-1' }));
      assert.equal(first.existing, false);
      assert.equal(first.execution.status, 'queued');
      assert.deepEqual(first.execution.input, { n: 1 });
      const again = await store.executions.insertQueued(queued(alice.id, fn.id, { idempotencyKey: 'k-1', requestHash: 'h2' }));
      assert.equal(again.existing, true);
      assert.equal(again.execution.id, first.execution.id);
      assert.equal(again.requestHash, 'h1');
      assert.equal(await store.executions.countQueued(), 1);
    });

    withStore('executions: the queue is leased oldest first, not before available, and each lease is fenced by its worker', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const now = Date.now();
      const a = await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now - 2000 }));
      const b = await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now - 1000 }));
      await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now + 60_000 }));
      const leased = await store.executions.lease('w1', now, 10, 30_000);
      assert.deepEqual(leased.map((e) => e.id), [a.execution.id, b.execution.id]);
      assert.ok(leased.every((e) => e.status === 'running' && e.attempts === 1));
      assert.deepEqual(await store.executions.lease('w2', now, 10, 30_000), [], 'nothing else is available yet');
      assert.equal(await store.executions.renew(a.execution.id, 'w2', now + 60_000), false, 'only the holder renews');
      assert.equal(await store.executions.renew(a.execution.id, 'w1', now + 60_000), true);
      const outcome = { status: 'succeeded' as const, result: 7, error: null, logs: 'ok', logsTruncated: false, durationMs: 3, coldStart: false, instanceId: 'fn-9', workerId: 'w-b', startedAt: nowIso(), finishedAt: nowIso() };
      assert.equal(await store.executions.finish(a.execution.id, 'w2', outcome), false, 'only the holder finishes');
      assert.equal(await store.executions.finish(a.execution.id, 'w1', outcome), true);
      const done = await store.executions.get(alice.id, a.execution.id);
      assert.equal(done?.status, 'succeeded');
      assert.equal(done?.result, 7);
      assert.equal(done?.logs, 'ok');
      assert.equal(done?.workerId, 'w-b', 'the worker that ran it is recorded');
    });

    withStore('executions: the owners with queued work are listed, and a lease can take one owner\'s oldest', async (store) => {
      const { alice, bob, fn } = await twoUsers(store);
      const bobs = (await store.functions.create({ id: newId(), ownerId: bob.id, name: 'g', at: nowIso(), version: version() }))!;
      const now = Date.now();
      for (let n = 0; n < 3; n++) await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now - 3000 + n }));
      const later = await store.executions.insertQueued(queued(bob.id, bobs.id, { availableAt: now - 1000 }));
      assert.deepEqual((await store.executions.queuedOwners()).sort(), [alice.id, bob.id].sort());
      const [bobsFirst] = await store.executions.lease('w', now, 2, 30_000, bob.id);
      assert.equal(bobsFirst?.id, later.execution.id, "bob's execution, though alice's are older");
      assert.deepEqual(await store.executions.queuedOwners(), [alice.id], 'bob has nothing queued any more');
      const alices = await store.executions.lease('w', now, 2, 30_000, alice.id);
      assert.equal(alices.length, 2);
      assert.ok(alices.every((e) => e.ownerId === alice.id));
    });

    withStore('executions: a claim by id is fenced: of many concurrent claimers exactly one wins', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const { execution } = await store.executions.insertQueued(queued(alice.id, fn.id));
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => store.executions.claim(execution.id, `w${i}`, Date.now(), 30_000)));
      const winners = claims.filter((c) => c !== undefined);
      assert.equal(winners.length, 1);
      assert.equal(winners[0]!.attempts, 1);
      assert.equal(await store.executions.claim(execution.id, 'late', Date.now(), 30_000), undefined);
      const future = await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: Date.now() + 60_000 }));
      assert.equal(await store.executions.claim(future.execution.id, 'w', Date.now(), 30_000), undefined, 'not before it is available');
    });

    withStore('executions: requeue keeps what the attempt said, or (refused for capacity) refunds the attempt', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const { execution } = await store.executions.insertQueued(queued(alice.id, fn.id));
      await store.executions.lease('w1', Date.now(), 1, 30_000);
      assert.ok(await store.executions.requeue(execution.id, 'w1', Date.now() - 1, { error: executionError('user_error', 'boom'), logs: 'tried' }));
      const retried = await store.executions.get(alice.id, execution.id);
      assert.equal(retried?.status, 'queued');
      assert.equal(retried?.error?.message, 'boom');
      assert.equal(retried?.error?.fault, 'user');
      const [again] = await store.executions.lease('w1', Date.now(), 1, 30_000);
      assert.equal(again?.attempts, 2);
      assert.ok(await store.executions.requeue(execution.id, 'w1', Date.now() - 1, null));
      const refunded = await store.executions.get(alice.id, execution.id);
      assert.equal(refunded?.attempts, 1);
      assert.equal(refunded?.logs, 'tried', 'a refused attempt keeps the previous attempt\'s logs');
    });

    withStore('executions: reclaim takes only expired leases, back to the queue or dead-lettered when out of attempts', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const now = Date.now();
      const live = await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now - 3000 }));
      const expired = await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now - 2000 }));
      const spent = await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: now - 1000, maxAttempts: 1 }));
      await store.executions.lease('live', now, 1, 60_000);
      await store.executions.lease('dead', now, 2, 10);
      assert.equal(await store.executions.reclaimExpired(now + 1000), 2);
      assert.equal((await store.executions.get(alice.id, live.execution.id))?.status, 'running', 'a lease its holder can still renew is never taken');
      const back = await store.executions.get(alice.id, expired.execution.id);
      assert.equal(back?.status, 'queued');
      assert.equal(back?.error?.reason, 'lease_expired');
      assert.equal((await store.executions.get(alice.id, spent.execution.id))?.status, 'dead_lettered');
      assert.equal(await store.executions.renew(expired.execution.id, 'dead', now + 60_000), false, 'the old holder lost it');
      assert.equal(await store.executions.reclaimExpired(now + 1000, true), 1, 'everyLease takes the live one too');
    });

    withStore('executions: finished records are written in batches (a bad one fails alone), read back and paged newest first', async (store) => {
      const { alice, bob, fn } = await twoUsers(store);
      const batch = Array.from({ length: 5 }, (_, n) => finished(alice.id, fn.id, n));
      const orphan = finished(newId(), fn.id, 9);
      const report = await store.executions.insertFinished([...batch, orphan]);
      assert.deepEqual({ written: report.written, rejected: report.rejected.map((r) => r.id), deferred: report.deferred }, { written: 5, rejected: [orphan.id], deferred: null });
      assert.deepEqual(await store.executions.get(alice.id, batch[2].id), batch[2]);
      assert.equal(await store.executions.get(bob.id, batch[2].id), undefined);
      const page = await store.executions.list({ ownerId: alice.id, limit: 2 });
      assert.deepEqual(page.map((e) => e.id), [batch[4].id, batch[3].id]);
      const next = await store.executions.list({ ownerId: alice.id, limit: 10, after: { createdAt: page[1].createdAt, id: page[1].id } });
      assert.deepEqual(next.map((e) => e.id), [batch[2].id, batch[1].id, batch[0].id]);
      assert.deepEqual(await store.executions.list({ ownerId: alice.id, limit: 10, status: 'failed' }), []);
      if (store.executions.insertFinishedNow) {
        const now = finished(alice.id, fn.id, 20);
        assert.equal(store.executions.insertFinishedNow([now])?.written, 1);
        assert.equal((await store.executions.get(alice.id, now.id))?.id, now.id);
      }
    });

    withStore('64-bit columns: epoch milliseconds and object sizes round-trip exactly', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const far = 2 ** 43 + 12_345;
      const { execution } = await store.executions.insertQueued(queued(alice.id, fn.id, { availableAt: far - 1, timeoutMs: 2 ** 33 }));
      const [leased] = await store.executions.lease('w', far, 1, 2 ** 34);
      assert.equal(leased?.id, execution.id);
      assert.equal(leased?.timeoutMs, 2 ** 33);
      assert.equal(await store.executions.renew(execution.id, 'w', far + 2 ** 34), true);
      const big = 64 * 2 ** 30 + 7;
      const put = await store.objects.put({ id: newId(), ownerId: alice.id, functionId: fn.id, name: 'model.bin', size: big, contentType: 'application/octet-stream', sha256: 'f'.repeat(64), createdAt: nowIso() });
      assert.equal(put.info.size, big);
      assert.equal((await store.objects.get(alice.id, fn.id, 'model.bin'))?.size, big);
    });

    withStore('outbox: a message is written in the same transaction as its execution, taken in order and deleted', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const a = await store.executions.insertQueued(queued(alice.id, fn.id), { outbox: { subject: 'executions.queued', payload: 'a' } });
      await store.executions.insertQueued(queued(alice.id, fn.id), { outbox: { subject: 'executions.queued', payload: 'b' } });
      await store.executions.insertQueued(queued(alice.id, fn.id, { idempotencyKey: 'k' }), { outbox: { subject: 'executions.queued', payload: 'c' } });
      await store.executions.insertQueued(queued(alice.id, fn.id, { idempotencyKey: 'k' }), { outbox: { subject: 'executions.queued', payload: 'not again' } });
      const messages = await store.executions.takeOutbox(10);
      assert.deepEqual(messages.map((m) => m.payload), ['a', 'b', 'c'], 'a replayed idempotent request announces nothing');
      assert.ok(messages[0].id < messages[1].id && messages.every((m) => m.subject === 'executions.queued' && m.createdAt > 0));
      await store.executions.deleteOutbox(messages.slice(0, 2).map((m) => m.id));
      assert.deepEqual((await store.executions.takeOutbox(10)).map((m) => m.payload), ['c']);
      assert.ok(a.execution.id);
    });

    withStore('secrets and objects: per owner, names unique regardless of case, objects replaced by name', async (store) => {
      const { alice, bob, fn } = await twoUsers(store);
      const secret = await store.secrets.create({ id: newId(), ownerId: alice.id, name: 'Token', ciphertext: 'c1', createdAt: nowIso() });
      assert.ok(secret);
      assert.equal(await store.secrets.create({ id: newId(), ownerId: alice.id, name: 'TOKEN', ciphertext: 'c2', createdAt: nowIso() }), undefined);
      assert.ok(await store.secrets.create({ id: newId(), ownerId: bob.id, name: 'token', ciphertext: 'c3', createdAt: nowIso() }));
      assert.deepEqual((await store.secrets.ciphertexts(alice.id, ['token'])).map((c) => c.ciphertext), ['c1']);
      assert.equal(await store.secrets.get(bob.id, secret.id), undefined);
      const object = (n: number) => ({ id: newId(), ownerId: alice.id, functionId: fn.id, name: 'a.txt', size: n, contentType: 'text/plain', sha256: 'e'.repeat(64), createdAt: nowIso() });
      const first = await store.objects.put(object(1));
      const second = await store.objects.put(object(2));
      assert.equal(second.replacedId, first.info.id);
      assert.deepEqual((await store.objects.list(alice.id, fn.id)).map((o) => o.size), [2]);
      assert.equal(await store.objects.get(bob.id, fn.id, 'a.txt'), undefined);
    });

    withStore('routes: every change bumps the generation; a snapshot is one consistent read', async (store) => {
      const { alice, fn } = await twoUsers(store);
      const before = await store.routes.generation();
      assert.ok(await store.routes.setExposure(alice.id, fn.id, { routes: [checkRoute({ method: 'GET', path: '/users/:id' })], public: true }, nowIso()));
      const snapshot = await store.routes.snapshot();
      assert.ok(snapshot.generation > before);
      assert.deepEqual(snapshot.routes.map((r) => `${r.method} ${r.path} ${r.functionName}`), ['GET /users/:id f']);
      assert.deepEqual(snapshot.publicFunctions.map((p) => p.name), ['f']);
      assert.equal((await store.routes.exposures(alice.id)).get(fn.id)?.public, true);
      assert.equal(await store.routes.setExposure(newId(), fn.id, { public: false }, nowIso()), false, "another owner's function is not there");
    });
  });
}
