import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

describe('GET /api/v1/workers in the embedded mode', () => {
  let p: TestPlatform;
  let admin: Record<string, string>;
  let bob: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WORKER_ID: 'node-a', WARM_POOL_SIZE: '0', MAX_CONCURRENT_EXECUTIONS: '7', MAX_INSTANCES: '9' });
    admin = (await p.user('admin')).auth;
    bob = (await p.user('bob')).auth;
  });
  after(() => p.close());

  test('lists exactly one worker, this process, under its WORKER_ID with every role', async () => {
    const started = Date.now();
    const res = await p.api.inject({ method: 'GET', url: '/api/v1/workers', headers: admin });
    assert.equal(res.statusCode, 200, res.body);
    const { workers } = res.json();
    assert.equal(workers.length, 1);
    const [w] = workers;
    assert.equal(w.id, 'node-a');
    assert.deepEqual(w.roles, ['control', 'gateway', 'worker']);
    assert.equal(w.state, 'ready');
    assert.equal(w.pid, process.pid);
    assert.equal(w.host, hostname());
    assert.deepEqual(w.capacity, { maxConcurrentExecutions: 7, maxInstances: 9 });
    assert.equal(w.instances, 0);
    assert.equal(w.inFlight, 0);
    assert.equal(typeof w.load.score, 'number');
    assert.equal(typeof w.load.saturated, 'boolean');
    assert.ok(Date.parse(w.lastHeartbeatAt) <= started + 1000 && started - Date.parse(w.lastHeartbeatAt) < 10_000, w.lastHeartbeatAt);
    assert.ok(Date.parse(w.startedAt) <= Date.parse(w.lastHeartbeatAt));
    const old = await p.api.inject({ method: 'GET', url: '/api/workers', headers: admin });
    assert.deepEqual(old.json().workers.map((x: { id: string }) => x.id), ['node-a'], '/api is an alias');
  });

  test('admins only, like the worker totals of /metrics/workers', async () => {
    const res = await p.api.inject({ method: 'GET', url: '/api/v1/workers', headers: bob });
    assert.equal(res.statusCode, 403);
    assert.equal(errorCode(res), 'FORBIDDEN');
    assert.equal((await p.api.inject({ method: 'GET', url: '/api/v1/workers' })).statusCode, 401);
  });

  test('the OpenAPI document describes it', async () => {
    const doc = (await p.api.inject({ method: 'GET', url: '/docs/json' })).json();
    const op = doc.paths['/api/v1/workers']?.get;
    assert.ok(op, 'GET /api/v1/workers is documented');
    assert.ok(op.responses['200'] && op.responses['403']);
  });
});

const skip = sandboxSkipReason();

describe('the worker id on instances and execution records', { skip }, () => {
  let p: TestPlatform;
  let admin: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WORKER_ID: 'node-b', WARM_POOL_SIZE: '1' });
    admin = (await p.user('admin')).auth;
  });
  after(() => p.close());

  test('sync and async execution records and /api/vms name the worker', async () => {
    const deployed = await p.api.inject({ method: 'POST', url: '/api/functions', headers: admin, payload: { name: 'hi', runtime: 'node', code: 'export const handler = () => ({ ok: true });' } });
    assert.equal(deployed.statusCode, 201, deployed.body);
    const sync = await p.api.inject({ method: 'POST', url: '/api/functions/name/hi/invoke', headers: { ...admin, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(sync.statusCode, 200, sync.body);
    const vms = (await p.api.inject({ method: 'GET', url: '/api/v1/vms', headers: admin })).json().items;
    assert.ok(vms.length > 0 && vms.every((i: { workerId: string }) => i.workerId === 'node-b'), JSON.stringify(vms));
    const queued = await p.api.inject({ method: 'POST', url: '/api/functions/name/hi/invoke?async=true', headers: { ...admin, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(queued.statusCode, 202, queued.body);
    const asyncId = queued.json().id;
    const deadline = Date.now() + 20_000;
    let records: Array<{ id: string; status: string; mode: string; workerId: string | null }> = [];
    while (Date.now() < deadline) {
      records = (await p.api.inject({ method: 'GET', url: '/api/v1/executions', headers: admin })).json().items;
      if (records.some((r) => r.id === asyncId && r.status === 'succeeded') && records.some((r) => r.mode === 'sync')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const sent = records.filter((r) => r.id === asyncId || r.mode === 'sync');
    assert.equal(sent.length, 2, JSON.stringify(records));
    assert.ok(sent.every((r) => r.workerId === 'node-b'), JSON.stringify(sent));
  });
});
