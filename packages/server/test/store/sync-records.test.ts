import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openSqliteStore, openStore } from '../../src/store/index.ts';
import type { ExecutionStore, FinishedExecution } from '../../src/core/ports/store.ts';
import { SyncRecordWriter } from '../../src/executions/sync-writer.ts';
import { newId, newTimeOrderedId, nowIso } from '../../src/core/ids.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

function row(ownerId: string, i: number): FinishedExecution {
  const at = nowIso();
  return {
    id: newTimeOrderedId(), ownerId, functionId: newId(), functionName: 'f', version: 1, timeoutMs: 1000, mode: 'sync', status: 'succeeded',
    input: { i }, result: { ok: i }, error: null, logs: `log ${i}`, logsTruncated: false, durationMs: 0.5, coldStart: false,
    instanceId: 'fn-x', workerId: 'w-x', attempts: 1, maxAttempts: 1, createdAt: at, startedAt: at, finishedAt: at,
  };
}

async function tempStore(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-records-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return openSqliteStore(path.join(dir, 'db.sqlite'));
}

test('time-ordered execution ids are valid, unique and sort by creation time', () => {
  const ids = Array.from({ length: 5000 }, () => newTimeOrderedId());
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids.slice(0, 50)) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(newTimeOrderedId(1_000_000) < newTimeOrderedId(1_000_001));
});

test('sync records are read back as written; a row that breaks a constraint fails alone', async (t) => {
  const { store, db } = await tempStore(t);
  const errors: unknown[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line)) });
  const writer = new SyncRecordWriter(store.executions, log, { maxBatch: 1_000_000, intervalMs: 60_000 });
  try {
    const user = await store.users.create({ id: newId(), username: 'alice', passwordHash: 'x', createdAt: nowIso() });
    assert.ok(user);
    const rows = Array.from({ length: 250 }, (_, i) => row(user.id, i));
    for (const r of rows) writer.add(r);
    // An owner that does not exist breaks the foreign key: that row is refused, the others are written.
    const orphan = row(newId(), 1001);
    writer.add(orphan);
    assert.equal(writer.pending(rows[7].id), rows[7]);
    await writer.flush();
    // The writer keeps the JSON texts it serialised on the record; the stored record is the rest.
    for (const { inputJson: _i, resultJson: _r, ...r } of [rows[0], rows[123], rows[249]]) assert.deepEqual({ ...(await store.executions.get(user.id, r.id)) }, r);
    assert.equal(writer.pending(rows[7].id), undefined);
    assert.equal(await store.executions.get(orphan.ownerId, orphan.id), undefined);
    assert.equal((await store.executions.list({ ownerId: user.id, limit: 1000 })).length, rows.length);
    assert.equal(errors.length, 1);
    assert.match(JSON.stringify(errors[0]), /FOREIGN KEY/);
    assert.deepEqual((errors[0] as { ids: string[] }).ids, [orphan.id], 'the record given up is named');
  } finally {
    await store.close();
  }
});

test('records the store defers are kept, readable and retried with backoff until written; past the bound the writer is overloaded', async () => {
  const written: string[] = [];
  let deferring = true;
  const attempts: number[] = [];
  const store = {
    insertFinished: async () => ({ written: 0, rejected: [], deferred: null }),
    insertFinishedNow: (batch: readonly FinishedExecution[]) => {
      attempts.push(Date.now());
      if (deferring) return { written: 0, rejected: [], deferred: { ids: batch.map((e) => e.id), reason: 'the database is locked by another process' } };
      written.push(...batch.map((e) => e.id));
      return { written: batch.length, rejected: [], deferred: null };
    },
  } as unknown as ExecutionStore;
  const warnings: unknown[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  const writer = new SyncRecordWriter(store, log, { intervalMs: 10, maxRetryMs: 80, maxPendingBytes: 8 * 1024 });
  const rows = Array.from({ length: 5 }, (_, i) => row(newId(), i));
  for (const r of rows) writer.add(r);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(written.length, 0);
  for (const r of rows) assert.equal(writer.pending(r.id), r, 'kept and readable');
  assert.ok(attempts.length >= 4 && attempts.length <= 12, `${attempts.length} attempts in 400 ms: backoff, not a busy loop`);
  assert.equal(warnings.length, 1, 'the outage is said once');
  assert.equal(writer.overloaded, false);
  for (let i = 0; i < 5; i++) writer.add(row(newId(), 10 + i));
  assert.equal(writer.overloaded, true, '10 records of ~1 KiB each are past 8 KiB');
  deferring = false;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(written.length, 10, 'all written once the store takes them');
  assert.equal(writer.overloaded, false);
  assert.equal(writer.pending(rows[0].id), undefined);
});

test('a flush that meets an open transaction waits for it, keeps serving the rows, then writes them', async (t) => {
  const { store, db } = await tempStore(t);
  const writer = new SyncRecordWriter(store.executions, pino({ level: 'silent' }), { maxBatch: 1_000_000, intervalMs: 60_000 });
  try {
    const user = await store.users.create({ id: newId(), username: 'bob', passwordHash: 'x', createdAt: nowIso() });
    assert.ok(user);
    const rows = Array.from({ length: 20 }, (_, i) => row(user.id, i));
    for (const r of rows) writer.add(r);
    let flushed: Promise<void> | undefined;
    await db.transaction().execute(async (trx) => {
      await trx.selectFrom('users').select('id').execute();
      flushed = writer.flush();
      await new Promise((resolve) => setTimeout(resolve, 30));
      // Still inside the transaction: nothing was written on its connection, the rows are still served.
      assert.equal(writer.pending(rows[3].id), rows[3]);
    });
    await flushed;
    assert.equal(writer.pending(rows[3].id), undefined);
    assert.equal((await store.executions.list({ ownerId: user.id, limit: 100 })).length, rows.length);
  } finally {
    await writer.flush();
    await store.close();
  }
});

test('at exit, a transaction left open (it can never commit) is rolled back and the records are written', async (t) => {
  const { store, db } = await tempStore(t);
  const writer = new SyncRecordWriter(store.executions, pino({ level: 'silent' }), { maxBatch: 1_000_000, intervalMs: 60_000 });
  try {
    const user = await store.users.create({ id: newId(), username: 'dave', passwordHash: 'x', createdAt: nowIso() });
    assert.ok(user);
    const rows = Array.from({ length: 5 }, (_, i) => row(user.id, i));
    for (const r of rows) writer.add(r);
    let exitedInside = false;
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('users').values({ id: newId(), username: 'never-committed', password_hash: 'x', role: 'user', created_at: nowIso() }).execute();
      assert.equal(writer.flushSync(), false, 'an ordinary flush waits for the transaction');
      exitedInside = writer.flushSync(true);
      // What follows in this callback is what a dying process never gets to run.
    }).catch(() => {});
    assert.equal(exitedInside, true);
    assert.equal((await store.executions.list({ ownerId: user.id, limit: 100 })).length, rows.length);
    assert.equal(await store.users.findCredentials('never-committed'), undefined, 'the open transaction was rolled back');
  } finally {
    await store.close();
  }
});

/**
 * A platform process that answers sync invocations and then dies, in the way `how` says; every
 * execution it answered must be in the database afterwards.
 */
async function answeredThenDied(how: 'uncaught' | 'close'): Promise<{ answered: string[]; stored: string[]; exitCode: number | null }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'skyscale-records-'));
  try {
    const main = path.resolve(import.meta.dirname, '../../src/main.ts');
    const config = path.resolve(import.meta.dirname, '../../src/config/config.ts');
    const script = `
      import { assemblePlatform, createLogger } from ${JSON.stringify(main)};
      import { loadConfig } from ${JSON.stringify(config)};
      const config = loadConfig({ DATA_DIR: ${JSON.stringify(dataDir)}, LOG_LEVEL: 'silent', WARM_POOL_SIZE: '0' });
      const { api, close } = await assemblePlatform(config, createLogger(config));
      const body = (r) => JSON.parse(r.body);
      await api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'carol', password: 'correct horse battery' } });
      const { token } = body(await api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'carol', password: 'correct horse battery' } }));
      const headers = { authorization: 'Bearer ' + token };
      const fn = body(await api.inject({ method: 'POST', url: '/api/functions', headers, payload: { name: 'echo', runtime: 'node', code: 'export const handler = (e) => e;' } }));
      const ids = [];
      for (let i = 0; i < 30; i++) {
        const res = await api.inject({ method: 'POST', url: '/api/functions/' + fn.id + '/invoke', headers, payload: { i } });
        if (res.statusCode !== 200) throw new Error(res.body);
        ids.push(body(res).id);
      }
      process.stdout.write(JSON.stringify({ ids, owner: body(await api.inject({ method: 'GET', url: '/api/auth/me', headers })).id }) + '\\n');
      if (${JSON.stringify(how)} === 'close') await close();
      else setImmediate(() => { throw new Error('boom: the platform crashed'); });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const line = out.trim().split('\n').at(-1);
    if (line === undefined || line === '') throw new Error(`the platform process printed nothing (exit ${exitCode}): ${err}`);
    const { ids, owner } = JSON.parse(line) as { ids: string[]; owner: string };
    // The crashed process left its instances' processes to die with it; the records are in the file.
    const store = await openStore({ kind: 'sqlite', path: path.join(dataDir, 'skyscale.db') });
    try {
      const stored = (await store.executions.list({ ownerId: owner, limit: 200 })).map((r) => r.id);
      return { answered: ids, stored, exitCode };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('every answered sync invocation is recorded when the platform stops, or dies of an uncaught error', { skip: sandboxSkipReason() }, async () => {
  for (const how of ['close', 'uncaught'] as const) {
    const { answered, stored, exitCode } = await answeredThenDied(how);
    assert.equal(exitCode, how === 'close' ? 0 : 1);
    assert.equal(answered.length, 30);
    assert.deepEqual([...stored].sort(), [...answered].sort(), how);
  }
});
