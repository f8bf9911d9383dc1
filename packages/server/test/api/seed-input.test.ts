import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

describe('the seed-001 input shape on POST /api/executions', () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let fnId: string;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' });
    alice = (await p.user('alice')).auth;
    bob = (await p.user('bob')).auth;
    fnId = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'contract', runtime: 'node', code: 'export const handler = (e) => ({ name: e.direct_inputs?.name, token: process.env.REQUESTED_TOKEN ?? null, files: Object.keys(e.object_inputs ?? {}) });' } })).json().id;
    await p.api.inject({ method: 'POST', url: `/api/function-objects/${fnId}/input.csv`, headers: { ...alice, 'content-type': 'text/csv' }, payload: 'a,b' });
    await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'requested_token', value: 'req-tok' } });
  });
  after(() => p.close());

  const queue = (payload: object, headers = alice) => p.api.inject({ method: 'POST', url: '/api/executions', headers, payload });

  test('object_inputs must exist and belong to the caller before anything is queued', async () => {
    const missing = await queue({ function_id: fnId, input: { object_inputs: { file1: `${fnId}/nope.csv` } } });
    assert.equal(missing.statusCode, 404);
    assert.equal(errorCode(missing), 'NOT_FOUND');
    const bobFn = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: bob, payload: { name: 'bobs', runtime: 'node', code: 'export const handler = () => 1;' } })).json().id;
    const foreign = await queue({ function_id: bobFn, input: { object_inputs: { file1: `${fnId}/input.csv` } } }, bob);
    assert.equal(foreign.statusCode, 404, "bob cannot reference alice's object");
    const malformed = await queue({ functionId: fnId, input: { object_inputs: { file1: 'no-slash' } } });
    assert.equal(malformed.statusCode, 400);
    const badSecrets = await queue({ functionId: fnId, input: { secrets: ['not a name'] } });
    assert.equal(badSecrets.statusCode, 400);
    const queued = (await p.api.inject({ method: 'GET', url: '/api/executions?status=queued', headers: alice })).json().items;
    assert.deepEqual(queued, [], 'nothing was queued by the refused requests');
  });

  test('a valid request is queued and runs with requested secrets injected', { skip: sandboxSkipReason() }, async () => {
    const res = await queue({ function_id: fnId, input: { direct_inputs: { name: 'Ada' }, object_inputs: { file1: `${fnId}/input.csv` }, secrets: ['REQUESTED_TOKEN'] } });
    assert.equal(res.statusCode, 202, res.body);
    let e;
    for (let i = 0; i < 200; i++) {
      e = (await p.api.inject({ method: 'GET', url: `/api/executions/${res.json().id}`, headers: alice })).json();
      if (e.status !== 'queued' && e.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.deepEqual(e.result, { name: 'Ada', token: 'req-tok', files: ['file1'] });
  });
});
