/** The embedded platform with DATABASE_URL set: the API on PostgreSQL, sync and async. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { postgresDatabase, postgresSkip, stopPostgres } from '../helpers/postgres.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

describe('the platform on PostgreSQL', { skip: postgresSkip || sandboxSkipReason() }, () => {
  let p: TestPlatform;
  before(async () => {
    p = await testPlatform({ DATABASE_URL: await postgresDatabase(), DATABASE_POOL_SIZE: '4', WARM_POOL_SIZE: '1' });
  });
  after(async () => {
    await p?.close();
    await stopPostgres();
  });

  test('signup, deploy a JS function, invoke it sync and async', async () => {
    const alice = (await p.user('alice')).auth;
    const deployed = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'double', runtime: 'node', code: 'export const handler = (event) => ({ doubled: event.n * 2 });' } });
    assert.equal(deployed.statusCode, 201, deployed.body);
    const fn = deployed.json();
    const sync = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.id}/invoke`, headers: { ...alice, 'content-type': 'application/json' }, payload: '{"n":21}' });
    assert.equal(sync.statusCode, 200, sync.body);
    assert.deepEqual(sync.json().result, { doubled: 42 });
    const queued = await p.api.inject({ method: 'POST', url: '/api/executions', headers: alice, payload: { function_id: fn.id, input: { n: 5 } } });
    assert.equal(queued.statusCode, 202, queued.body);
    let execution: { status: string; result?: unknown } = { status: 'queued' };
    for (const end = Date.now() + 20_000; Date.now() < end && ['queued', 'running'].includes(execution.status); await new Promise((r) => setTimeout(r, 50))) {
      execution = (await p.api.inject({ method: 'GET', url: `/api/executions/${queued.json().id}`, headers: alice })).json();
    }
    assert.equal(execution.status, 'succeeded', JSON.stringify(execution));
    assert.deepEqual(execution.result, { doubled: 10 });
    const ready = await p.api.inject({ method: 'GET', url: '/readyz' });
    assert.ok(ready.statusCode < 500, ready.body);
  });
});
