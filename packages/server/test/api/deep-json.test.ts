import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MAX_JSON_DEPTH } from '../../src/core/json-depth.ts';
import { errorCode, testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const objects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
/** Brackets inside strings are not nesting. */
const deepLooking = JSON.stringify({ text: '['.repeat(100_000) });

describe('deeply nested JSON', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  let auth: Record<string, string>;
  let echo: string;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' });
    auth = { ...(await p.user('nester')).auth, 'content-type': 'application/json' };
    const fn = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'echo', runtime: 'node', code: 'export const handler = (e) => e;' } });
    echo = fn.json().id;
  });
  after(() => p.close());

  test('API bodies nested past the limit are 400 JSON_TOO_DEEP, at the limit they run, and the listing still answers', async () => {
    for (const body of [arrays(100_000), objects(50_000), arrays(MAX_JSON_DEPTH + 1)]) {
      for (const url of [`/api/functions/${echo}/invoke`, `/api/functions/${echo}/invoke?async=true`, '/api/secrets']) {
        const res = await p.api.inject({ method: 'POST', url, headers: auth, payload: body });
        assert.equal(res.statusCode, 400, `${url}: ${res.body.slice(0, 200)}`);
        assert.equal(errorCode(res), 'JSON_TOO_DEEP');
      }
      const seed = await p.api.inject({ method: 'POST', url: '/api/executions', headers: auth, payload: `{"functionId":"${echo}","input":${body}}` });
      assert.equal(errorCode(seed), 'JSON_TOO_DEEP');
    }
    for (const body of [arrays(MAX_JSON_DEPTH), objects(MAX_JSON_DEPTH), deepLooking]) {
      const res = await p.api.inject({ method: 'POST', url: `/api/functions/${echo}/invoke`, headers: auth, payload: body });
      assert.equal(res.statusCode, 200, res.body.slice(0, 200));
      assert.equal(res.json().status, 'succeeded');
    }
    const listed = await p.api.inject({ method: 'GET', url: `/api/executions/function/${echo}`, headers: auth });
    assert.equal(listed.statusCode, 200, listed.body.slice(0, 300));
    assert.equal(listed.json().items.length, 3);
  });

  test('a gateway route that hands the function the parsed body refuses one nested past the limit', async () => {
    const fn = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'gw-echo', runtime: 'node', code: 'export const handler = (e) => ({ got: typeof e });', routes: [{ method: 'POST', path: '/deep', eventShape: 'body' }] } });
    assert.equal(fn.statusCode, 201, fn.body);
    for (const [body, status] of [[arrays(100_000), 400], [objects(MAX_JSON_DEPTH + 1), 400], [objects(MAX_JSON_DEPTH), 200]] as const) {
      const res = await fetch(`${p.gatewayUrl}/deep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.text();
      assert.equal(res.status, status, text.slice(0, 200));
      if (status === 400) assert.equal(JSON.parse(text).error.code, 'JSON_TOO_DEEP');
    }
  });

  test('a result nested past the limit fails the execution (user_error) instead of breaking its record', async () => {
    const fn = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'deep-result', runtime: 'node', code: 'export const handler = ({ depth }) => { let v = 1; for (let i = 0; i < depth; i++) v = [v]; return v; };' } });
    for (const depth of [MAX_JSON_DEPTH + 1, 1000]) {
      const res = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.json().id}/invoke`, headers: auth, payload: { depth } });
      assert.equal(res.statusCode, 200, res.body.slice(0, 200));
      assert.deepEqual([res.json().status, res.json().error?.reason, res.json().result], ['failed', 'user_error', null]);
      assert.match(res.json().error.message, new RegExp(`nested deeper than ${MAX_JSON_DEPTH}`));
    }
    const ok = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.json().id}/invoke`, headers: auth, payload: { depth: MAX_JSON_DEPTH - 1 } });
    assert.equal(ok.json().status, 'succeeded');
    const listed = await p.api.inject({ method: 'GET', url: `/api/executions/function/${fn.json().id}`, headers: auth });
    assert.equal(listed.statusCode, 200, listed.body.slice(0, 300));
  });

  test('a stored record that cannot be parsed or serialised is listed with a marker, not a 500', async () => {
    const fn = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'victim', runtime: 'node', code: 'export const handler = () => "fine";' } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await p.api.inject({ method: 'POST', url: `/api/functions/${fn.json().id}/invoke`, headers: auth, payload: { i } })).json().id);
    assert.equal((await p.api.inject({ method: 'GET', url: `/api/executions/function/${fn.json().id}`, headers: auth })).statusCode, 200);
    // Rows written before the limit existed, or damaged on disk.
    const db = new DatabaseSync(path.join(p.dataDir, 'skyscale.db'));
    try {
      db.prepare('UPDATE executions SET input = ?, error = ? WHERE id = ?').run('{"truncated', '{"reason":', ids[0]);
      db.prepare('UPDATE executions SET result = ? WHERE id = ?').run(arrays(100_000), ids[1]);
    } finally {
      db.close();
    }
    const listed = await p.api.inject({ method: 'GET', url: `/api/executions/function/${fn.json().id}`, headers: auth });
    assert.equal(listed.statusCode, 200, listed.body.slice(0, 300));
    const byId = new Map(listed.json().items.map((e: { id: string }) => [e.id, e]));
    const [broken, deep, intact] = ids.map((id) => byId.get(id) as { input: unknown; result: unknown; error: { reason: string } | null });
    assert.match(JSON.stringify(broken.input), /\$unreadable.*not valid JSON/);
    assert.equal(broken.error?.reason, 'platform_error');
    assert.match(JSON.stringify(deep.result), new RegExp(`\\$unreadable.*nested deeper than ${MAX_JSON_DEPTH}`));
    assert.deepEqual([intact.input, intact.result], [{ i: 2 }, 'fine']);
    const one = await p.api.inject({ method: 'GET', url: `/api/executions/${ids[1]}`, headers: auth });
    assert.equal(one.statusCode, 200, one.body.slice(0, 300));
  });
});
