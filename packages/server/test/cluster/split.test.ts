/**
 * The API against a control + gateway process and a worker process, on PostgreSQL and NATS: deploy,
 * sync, async, an HTTP route, a stream session, secrets and objects. Each process has its own DATA_DIR,
 * so code and objects reach the worker through the cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SkyscaleClient } from '@skyscale/client';
import { clusterSkip, startCluster, type RoleProcess, type TestCluster } from '../helpers/cluster.ts';
import { adminClient, waitTerminal } from './cluster-fixture.ts';

const CHAT = `
export async function stream(messages, send, context) {
  await send('welcome ' + (context.request.query.user ?? 'anonymous') + ' at ' + context.request.path);
  let n = 0;
  for await (const m of messages) {
    if (m === 'quit') { context.close(4000, 'bye'); break; }
    if (typeof m !== 'string') { await send(m); continue; }
    await send(++n + ': ' + m.toUpperCase());
  }
  return n;
}
`;

describe('distributed mode: control + gateway and a worker', { skip: clusterSkip }, () => {
  let cluster: TestCluster;
  let control: RoleProcess;
  let worker: RoleProcess;
  let client: SkyscaleClient;

  before(async () => {
    cluster = await startCluster();
    control = await cluster.start('control-1', 'control,gateway');
    worker = await cluster.start('worker-1', 'worker');
    const admin = await adminClient(control.url!, control.gatewayUrl);
    client = admin.client;
    await cluster.waitForWorkers(control.url!, admin.key, 1);
  });
  after(async () => cluster?.dispose());

  test('deploy, then a sync invocation runs on the worker', async () => {
    await client.createFunction({ name: 'echo', runtime: 'node', code: 'export const handler = async (e) => ({ got: e, pid: process.pid });' });
    const e = await client.invoke({ name: 'echo' }, { n: 1 });
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.deepEqual((e.result as { got: unknown }).got, { n: 1 });
    assert.equal(e.workerId, 'worker-1');
  });

  test('async executions go through the outbox and the work queue, each once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await client.invokeAsync({ name: 'echo' }, { i })).id);
    const done = await waitTerminal(client, ids);
    for (const id of ids) {
      const e = done.get(id)!;
      assert.equal(e.status, 'succeeded', id);
      assert.equal(e.attempts, 1);
      assert.equal(e.workerId, 'worker-1');
    }
  });

  test('an input and a result larger than a NATS message travel by reference', async () => {
    const big = 'x'.repeat(1_500_000);
    const e = await client.invoke({ name: 'echo' }, { big });
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.equal(((e.result as { got: { big: string } }).got.big).length, big.length);
  });

  test('secrets are decrypted on the worker; objects uploaded to the control are read on the worker', async () => {
    await client.createSecret('API_TOKEN', 's3cret');
    const fn = await client.createFunction({
      name: 'reader',
      runtime: 'node',
      secrets: ['API_TOKEN'],
      code: `export const handler = async (e) => {
        const res = await fetch(process.env.API_BASE_URL + '/' + e.fn + '/greeting.txt');
        return { secret: process.env.API_TOKEN, status: res.status, body: await res.text() };
      };`,
    });
    await client.putObject(fn.id, 'greeting.txt', 'hello from the control', 'text/plain');
    const e = await client.invoke({ id: fn.id }, { fn: fn.id });
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.deepEqual(e.result, { secret: 's3cret', status: 200, body: 'hello from the control' });
  });

  test('an HTTP route on the gateway reaches the worker', async () => {
    const fn = await client.createFunction({ name: 'web', runtime: 'node', code: 'export const handler = async (e) => ({ path: e.path, method: e.method });', routes: [{ method: 'GET', path: '/hello' }], public: false } as never);
    assert.ok(fn.id);
    await new Promise((r) => setTimeout(r, 1500));
    const res = await fetch(`${control.gatewayUrl}/hello`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { path: '/hello', method: 'GET' });
  });

  test('a WebSocket stream session on the gateway runs on an exclusive instance of the worker', async () => {
    await client.createFunction({ name: 'chat', runtime: 'node', code: CHAT });
    const stream = await client.openStream('chat', { query: { user: 'remote' } });
    assert.equal(await stream.next(), 'welcome remote at /');
    stream.send('one');
    assert.equal(await stream.next(), '1: ONE');
    stream.send(new Uint8Array([7, 8, 9]));
    assert.deepEqual(await stream.next(), new Uint8Array([7, 8, 9]));
    for (let i = 0; i < 200; i++) stream.send(`m${i}`);
    for (let i = 0; i < 200; i++) assert.equal(await stream.next(), `${i + 2}: M${i}`);
    stream.send('quit');
    assert.deepEqual(await stream.closed, { code: 4000, reason: 'bye' });
    const pools = await client.streamStatus((await client.getFunctionByName('chat')).id);
    assert.ok(pools.pools[0].instances.length >= 1, JSON.stringify(pools));
  });

  test('GET /api/v1/workers lists the worker with its load and capacity', async () => {
    const workers = await client.listWorkers();
    const w = workers.find((x) => x.id === 'worker-1');
    assert.ok(w, JSON.stringify(workers));
    assert.equal(w.state, 'ready');
    assert.deepEqual(w.roles, ['worker']);
    assert.ok(w.capacity.maxConcurrentExecutions > 0);
    assert.ok((await client.listVms()).some((i) => (i as { workerId?: string }).workerId === 'worker-1'));
    const { topology } = (await client.system()) as unknown as { topology: { mode: string; store: string; bus: string; workers: Array<{ id: string; state: string }> } };
    assert.deepEqual({ mode: topology.mode, store: topology.store, bus: topology.bus }, { mode: 'distributed', store: 'postgres', bus: 'nats' });
    assert.deepEqual(topology.workers.map((w) => [w.id, w.state]), [['worker-1', 'ready']]);
  });

  test('worker output has no stack traces', () => {
    assert.doesNotMatch(worker.output() + control.output(), /\n\s+at .*\(.*:\d+:\d+\)/);
  });
});
