/**
 * Faults of distributed mode, each checked by one rule: every execution that was accepted (202) reaches
 * exactly one terminal record, which does not change afterwards. Real processes, a real PostgreSQL and
 * a real nats-server; leases of 3 s, heartbeats every 250 ms.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { SkyscaleClient } from '@skyscale/client';
import { clusterSkip, startCluster, type RoleProcess, type TestCluster } from '../helpers/cluster.ts';
import { adminClient, waitTerminal } from './cluster-fixture.ts';

const SLOW = 'export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 1500)); return { i: e.i }; };';

/** The rule: each accepted id has one row, terminal, the same when read again a moment later. */
async function checkExactlyOnce(cluster: TestCluster, client: SkyscaleClient, ids: readonly string[], timeoutMs = 90_000): Promise<Map<string, { status: string; attempts: number; workerId?: string | null }>> {
  const done = await waitTerminal(client, ids, timeoutMs);
  for (const [id, e] of done) assert.equal(e.status, 'succeeded', `${id} ended ${e.status}`);
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string; n: string }>('select id, count(*) as n from executions where id = any($1) group by id', [ids]);
    assert.equal(rows.length, ids.length, 'one row per accepted execution');
    assert.ok(rows.every((r) => Number(r.n) === 1));
  } finally {
    await db.end();
  }
  await new Promise((r) => setTimeout(r, 1000));
  const again = await waitTerminal(client, ids, 5000);
  for (const [id, e] of done) assert.deepEqual({ status: again.get(id)!.status, workerId: again.get(id)!.workerId }, { status: e.status, workerId: e.workerId }, `${id} changed after it ended`);
  return done;
}

async function enqueue(client: SkyscaleClient, n: number, event: (i: number) => Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await client.invokeAsync({ name: 'slow' }, { i, ...event(i) })).id);
  return ids;
}

describe('distributed mode under faults', { skip: clusterSkip }, () => {
  let cluster: TestCluster;
  let control: RoleProcess;
  let client: SkyscaleClient;
  let adminKey: string;

  before(async () => {
    cluster = await startCluster({ MAX_CONCURRENT_EXECUTIONS: '4' });
    control = await cluster.start('control-a', 'control,gateway');
    const admin = await adminClient(control.url!, control.gatewayUrl);
    client = admin.client;
    adminKey = admin.key;
    await client.createFunction({ name: 'slow', runtime: 'node', code: SLOW, timeoutMs: 120_000 } as never);
  });
  after(async () => cluster?.dispose());

  test('kill -9 of a worker mid-execution: its async work is retried elsewhere, its sync call fails fast', async () => {
    // The doomed worker alone takes the sync call and the first async work; the survivor comes after.
    const doomed = await cluster.start('doomed', 'worker');
    await cluster.waitForWorkers(control.url!, adminKey, 1);
    const call = client.invoke({ name: 'slow' }, { ms: 30_000 });
    const ids = await enqueue(client, 12, () => ({ ms: 1500 }));
    for (let i = 0; i < 100 && !(await client.listVms()).some((v) => (v as { workerId?: string }).workerId === 'doomed' && v.inFlight > 0); i++) await new Promise((r) => setTimeout(r, 50));
    const survivor = await cluster.start('survivor', 'worker');
    await cluster.waitForWorkers(control.url!, adminKey, 2);
    const killedAt = Date.now();
    doomed.kill('SIGKILL');
    const sync = await call;
    const failedAfter = Date.now() - killedAt;
    assert.equal(sync.status, 'system_error', JSON.stringify(sync));
    assert.equal(sync.error?.reason, 'worker_lost');
    assert.ok(failedAfter < 5_000, `the sync call failed ${failedAfter} ms after the kill, not at its deadline`);
    const done = await checkExactlyOnce(cluster, client, ids);
    assert.ok([...done.values()].some((e) => e.attempts > 1), 'some execution was retried after the kill');
    assert.ok([...done.values()].filter((e) => e.attempts > 1).every((e) => e.workerId === 'survivor'));
    // The next call goes to the live worker.
    assert.equal((await client.invoke({ name: 'slow' }, { ms: 1 })).workerId, 'survivor');
    await survivor.stop();
  });

  test('kill -9 of the control process with queued work: a new control relays and finishes it all', async () => {
    const w = await cluster.start('w-control', 'worker');
    await cluster.waitForWorkers(control.url!, adminKey, 1);
    const ids = await enqueue(client, 15, () => ({ ms: 300 }));
    control.kill('SIGKILL');
    await control.exited;
    control = await cluster.start('control-b', 'control,gateway');
    client = new (client.constructor as typeof SkyscaleClient)({ endpoint: control.url!, apiKey: adminKey });
    await checkExactlyOnce(cluster, client, ids);
    await w.stop();
  });

  test('NATS restarts under load: every accepted execution still ends once', async () => {
    const w = await cluster.start('w-nats', 'worker');
    await cluster.waitForWorkers(control.url!, adminKey, 1);
    const first = await enqueue(client, 10, () => ({ ms: 200 }));
    const restart = cluster.nats.restart({ downMs: 1500 });
    // Accepted while NATS is down: the outbox keeps them until the relay can publish.
    const during = await enqueue(client, 10, () => ({ ms: 200 }));
    await restart;
    const later = await enqueue(client, 10, () => ({ ms: 200 }));
    await checkExactlyOnce(cluster, client, [...first, ...during, ...later]);
    await w.stop();
  });

  test('a worker frozen (SIGSTOP) for 60 s: its lease is reclaimed, and its late completion is fenced out', { timeout: 180_000 }, async () => {
    const frozen = await cluster.start('frozen', 'worker', { MAX_CONCURRENT_EXECUTIONS: '1' });
    await cluster.waitForWorkers(control.url!, adminKey, 1);
    const [id] = await enqueue(client, 1, () => ({ ms: 2000 }));
    for (let i = 0; i < 100 && (await client.getExecution(id)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await client.getExecution(id)).workerId ?? 'frozen', 'frozen');
    frozen.kill('SIGSTOP');
    const thawed = await cluster.start('thawed', 'worker');
    const [done] = [...(await waitTerminal(client, [id], 30_000)).values()];
    assert.equal(done.status, 'succeeded');
    assert.equal(done.workerId, 'thawed', 'the reaper gave it to the live worker');
    await new Promise((r) => setTimeout(r, 60_000 - 5_000));
    frozen.kill('SIGCONT');
    // Its run finishes after waking; the fence keeps the record as the live worker wrote it.
    await new Promise((r) => setTimeout(r, 4000));
    const after = await client.getExecution(id);
    assert.equal(after.workerId, 'thawed');
    assert.equal(after.status, 'succeeded');
    await checkExactlyOnce(cluster, client, [id]);
    await Promise.all([frozen.stop(), thawed.stop()]);
  });

  test('two control processes accept the same Idempotency-Key at once: one execution', async () => {
    const other = await cluster.start('control-c', 'control');
    const w = await cluster.start('w-idem', 'worker');
    await cluster.waitForWorkers(control.url!, adminKey, 1);
    const otherClient = new (client.constructor as typeof SkyscaleClient)({ endpoint: other.url!, apiKey: adminKey });
    for (let round = 0; round < 5; round++) {
      const key = `same-${round}`;
      const [a, b] = await Promise.all([client.invokeAsync({ name: 'slow' }, { ms: 10, round }, { idempotencyKey: key }), otherClient.invokeAsync({ name: 'slow' }, { ms: 10, round }, { idempotencyKey: key })]);
      assert.equal(a.id, b.id, `round ${round}: one execution`);
      await checkExactlyOnce(cluster, client, [a.id]);
    }
    await Promise.all([other.stop(), w.stop()]);
  });
});
