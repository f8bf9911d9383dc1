import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { errorCode, testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

/** Another process's connection (SQLite locks are the same in one process): BEGIN IMMEDIATE holds the write lock. */
function holdWriteLock(p: TestPlatform): { db: DatabaseSync; release(): void } {
  const db = new DatabaseSync(path.join(p.dataDir, 'skyscale.db'), { timeout: 0 });
  db.exec('BEGIN IMMEDIATE');
  return { db, release: () => (db.isTransaction ? db.exec('ROLLBACK') : undefined) };
}

function storedIds(db: DatabaseSync, ids: readonly string[]): string[] {
  const rows = db.prepare(`SELECT id FROM executions WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as Array<{ id: string }>;
  return rows.map((r) => r.id).sort();
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return check();
}

async function platformWithEcho(env: Record<string, string> = {}) {
  const p = await testPlatform({ WARM_POOL_SIZE: '0', ...env }, { listen: true });
  const { auth } = await p.user('locked');
  const fn = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'echo', runtime: 'node', code: 'export const handler = (e) => e;' } });
  assert.equal(fn.statusCode, 201, fn.body);
  const invoke = (payload: object) => p.api.inject({ method: 'POST', url: `/api/functions/${fn.json().id}/invoke`, headers: auth, payload });
  assert.equal((await invoke({ warm: true })).statusCode, 200);
  return { p, auth, fnId: fn.json().id as string, invoke };
}

test('sync records answered while another process holds the write lock are kept, readable, and written once it is free', { skip }, async () => {
  const { p, auth, fnId, invoke } = await platformWithEcho();
  const lock = holdWriteLock(p);
  try {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await invoke({ i });
      assert.equal(res.statusCode, 200, res.body);
      ids.push(res.json().id);
    }
    // Several flush intervals pass under the lock: nothing may be dropped, everything stays readable.
    await new Promise((r) => setTimeout(r, 400));
    for (const id of ids) assert.equal((await p.api.inject({ method: 'GET', url: `/api/executions/${id}`, headers: auth })).statusCode, 200, id);
    const listed = await p.api.inject({ method: 'GET', url: `/api/executions/function/${fnId}`, headers: auth });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(listed.json().items.slice(0, 3).map((e: { id: string }) => e.id), [...ids].reverse());
    assert.deepEqual(storedIds(lock.db, ids), [], 'not written while the lock is held');
    lock.release();
    assert.ok(await until(() => storedIds(lock.db, ids).length === 3, 5000), 'written once the lock is free');
  } finally {
    lock.release();
    lock.db.close();
    await p.close();
  }
});

test('while too many records wait for the database, new sync invocations are refused with 503 and Retry-After, none lost', { skip }, async () => {
  const { p, invoke } = await platformWithEcho({ SYNC_RECORDS_BUFFER_MB: '1' });
  const lock = holdWriteLock(p);
  try {
    const answered: string[] = [];
    let refused: Awaited<ReturnType<typeof invoke>> | undefined;
    // Each echo of 200 KB keeps ~800 KB waiting (the event and the result, as text and parsed).
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const res = await invoke({ i, pad: 'x'.repeat(200_000) });
      if (res.statusCode === 200) answered.push(res.json().id);
      else refused = res;
    }
    assert.ok(refused, 'refused once the buffer is full');
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(errorCode(refused), 'SERVICE_UNAVAILABLE');
    assert.equal(refused.headers['retry-after'], '1');
    assert.ok(answered.length >= 1 && answered.length <= 3, `answered ${answered.length}`);
    lock.release();
    assert.ok(await until(() => storedIds(lock.db, answered).length === answered.length, 5000), 'every answered record is written');
    const again = await invoke({ after: true });
    assert.equal(again.statusCode, 200, 'accepted again once they are written');
  } finally {
    lock.release();
    lock.db.close();
    await p.close();
  }
});

test('writes under a held lock answer 503 with Retry-After without blocking the event loop, and work once it is free', { skip }, async () => {
  const { p, auth, fnId } = await platformWithEcho();
  const healthz = async (): Promise<number> => {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${p.port}/healthz`);
    assert.equal(res.status, 200);
    return performance.now() - started;
  };
  const lock = holdWriteLock(p);
  try {
    const writes = {
      deploy: () => p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'under-lock', runtime: 'node', code: 'export const handler = () => 1;' } }),
      secret: () => p.api.inject({ method: 'POST', url: '/api/secrets', headers: auth, payload: { name: 'token', value: 'v' } }),
      async: () => p.api.inject({ method: 'POST', url: `/api/functions/${fnId}/invoke?async=true`, headers: auth, payload: {} }),
      register: () => p.api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'late', password: 'correct horse battery' } }),
    };
    for (const [name, write] of Object.entries(writes)) {
      const started = performance.now();
      const pending = write();
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) latencies.push(await healthz());
      // Reads need no write lock (WAL): they are not held up behind the write that waits for it.
      const readStarted = performance.now();
      assert.equal((await p.api.inject({ method: 'GET', url: '/api/functions', headers: auth })).statusCode, 200);
      const readMs = performance.now() - readStarted;
      const res = await pending;
      const took = performance.now() - started;
      assert.equal(res.statusCode, 503, `${name}: ${res.body}`);
      assert.equal(errorCode(res), 'SERVICE_UNAVAILABLE');
      assert.equal(res.headers['retry-after'], '1');
      assert.ok(took < 4000, `${name} answered in ${Math.round(took)} ms`);
      assert.ok(Math.max(...latencies) < 250, `/healthz took ${latencies.map(Math.round).join(', ')} ms during ${name}`);
      assert.ok(readMs < 250, `a read took ${Math.round(readMs)} ms during ${name}`);
    }
    lock.release();
    // As a client that honours Retry-After would.
    await new Promise((r) => setTimeout(r, 1000));
    for (const [name, write] of Object.entries(writes)) assert.ok([201, 202].includes((await write()).statusCode), `${name} once the lock is free`);
    const functions = await p.api.inject({ method: 'GET', url: '/api/functions', headers: auth });
    assert.deepEqual(functions.json().items.map((f: { name: string }) => f.name).sort(), ['echo', 'under-lock']);
  } finally {
    lock.release();
    lock.db.close();
    await p.close();
  }
});
