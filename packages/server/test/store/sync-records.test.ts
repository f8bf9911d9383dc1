import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openStore } from '../../src/store/index.ts';
import type { ExecutionRow } from '../../src/store/executions.ts';
import { SyncRecordWriter } from '../../src/executions/sync-writer.ts';
import { newId, nowIso } from '../../src/core/ids.ts';

function row(ownerId: string, i: number): ExecutionRow {
  const at = nowIso();
  return {
    id: newId(), owner_id: ownerId, function_id: newId(), function_name: 'f', version: 1, timeout_ms: 1000, mode: 'sync', status: 'succeeded',
    input: JSON.stringify({ i }), result: JSON.stringify({ ok: i }), error: null, logs: `log ${i}`, logs_truncated: 0, duration_ms: 0.5, cold_start: 0,
    instance_id: 'fn-x', attempts: 1, max_attempts: 1, available_at: 0, lease_owner: null, lease_expires_at: null, idempotency_key: null, request_hash: null,
    created_at: at, started_at: at, finished_at: at,
  };
}

test('sync records written by the worker thread are read back as written; a bad row fails alone', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-records-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(path.join(dir, 'db.sqlite'));
  try {
    const user = await store.users.create({ id: newId(), username: 'alice', passwordHash: 'x', createdAt: nowIso() });
    assert.ok(user);
    const rows = Array.from({ length: 250 }, (_, i) => row(user.id, i));
    await store.executions.insertMany(rows);
    for (const r of [rows[0], rows[123], rows[249]]) assert.deepEqual({ ...(await store.executions.get(user.id, r.id)) }, r);

    // An owner that does not exist breaks the foreign key: that row is refused, the others are written.
    const good = row(user.id, 1000);
    const orphan = row(newId(), 1001);
    await assert.rejects(store.executions.insertMany([good, orphan]), /1 execution record\(s\) not written: FOREIGN KEY/);
    assert.deepEqual({ ...(await store.executions.get(user.id, good.id)) }, good);
    assert.equal(await store.executions.get(orphan.owner_id, orphan.id), undefined);
  } finally {
    await store.close();
  }
});

test('the batch writer serves records until they are written and never hands a row over twice', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-records-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(path.join(dir, 'db.sqlite'));
  const writer = new SyncRecordWriter(store.executions, pino({ level: 'silent' }), { maxBatch: 50, intervalMs: 5 });
  try {
    const user = await store.users.create({ id: newId(), username: 'bob', passwordHash: 'x', createdAt: nowIso() });
    assert.ok(user);
    const rows = Array.from({ length: 500 }, (_, i) => row(user.id, i));
    // Batches overlap: many flushes start while earlier ones are still on the worker thread.
    for (const r of rows) {
      writer.add(r);
      assert.equal(writer.pending(r.id), r);
    }
    await writer.flush();
    for (const r of rows) assert.equal(writer.pending(r.id), undefined);
    const listed = await store.executions.list({ ownerId: user.id, limit: 1000 });
    assert.equal(listed.length, rows.length);
  } finally {
    await writer.flush();
    await store.close();
  }
});
