import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

// Seed 003's PHP example: the handler reads the JSON body's fields straight from $event.
const PHP_HELLO = `<?php
function handler($event, $context) {
    if (isset($event['name'])) return ['message' => "Hello {$event['name']}"];
    return ['info' => 'php ' . PHP_MAJOR_VERSION, 'event' => $event];
}
`;
const NODE_ECHO = 'export const handler = (event) => ({ received: event });';

describe('gateway: event shapes (http or body), per function and per route', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  const gw = (path: string, init?: RequestInit) => fetch(p.gatewayUrl + path, init);
  const postJson = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => gw(path, { method: 'POST', headers, body });

  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1' });
    alice = (await p.user('alice')).auth;
  });
  after(() => p.close());

  const deploy = async (payload: object) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };

  test("seed 003's example: POST /api/hello with a JSON body reaches a PHP handler as $event['name']", { skip: !existsSync('/usr/bin/php') && 'SKIPPED: php-cli is not installed' }, async () => {
    const fn = await deploy({ name: 'php-hello', runtime: 'php', code: PHP_HELLO, routes: [{ method: 'POST', path: '/api/hello', eventShape: 'body' }, { method: 'GET', path: '/api/info', eventShape: 'body' }] });
    assert.deepEqual(fn.routes, [{ method: 'POST', path: '/api/hello', auth: 'public', eventShape: 'body' }, { method: 'GET', path: '/api/info', auth: 'public', eventShape: 'body' }]);
    assert.equal(fn.eventShape, 'http', 'the function keeps the default; its routes set their own');
    const hello = await postJson('/api/hello', '{"name":"Alice"}');
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), { message: 'Hello Alice' });
    // `curl -d` without -H sends the JSON as a form: it is JSON all the same.
    const curlDefault = await postJson('/api/hello', '{"name":"Bob"}', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.deepEqual(await curlDefault.json(), { message: 'Hello Bob' });
    const info = await (await gw('/api/info?verbose=1')).json();
    assert.match(info.info, /^php \d/);
    assert.deepEqual(info.event, { verbose: '1' }, 'a GET: the query (and path parameters) as the event');
  });

  test('a node function with eventShape body: its routes send the parsed body, a route may keep http; the record holds what the function got', async () => {
    const fn = await deploy({ name: 'node-body', runtime: 'node', code: NODE_ECHO, eventShape: 'body', routes: [{ method: 'POST', path: '/node/hello' }, { method: 'GET', path: '/node/users/:id' }, { method: 'POST', path: '/node/raw', eventShape: 'http' }] });
    assert.equal(fn.eventShape, 'body');
    const hello = await postJson('/node/hello', '{"name":"Alice"}');
    assert.deepEqual(await hello.json(), { received: { name: 'Alice' } });
    const record = (await p.api.inject({ method: 'GET', url: `/api/executions/${hello.headers.get('x-execution-id')}`, headers: alice })).json();
    assert.deepEqual(record.input, { name: 'Alice' });
    assert.deepEqual(await (await gw('/node/users/7?fields=name&id=ignored')).json(), { received: { fields: 'name', id: '7' } });
    assert.deepEqual(await (await postJson('/node/hello', 'plain words', { 'content-type': 'text/plain' })).json(), { received: 'plain words' });
    const raw = (await (await postJson('/node/raw', '{"name":"Alice"}')).json()).received;
    assert.deepEqual([raw.method, raw.path, raw.body], ['POST', '/node/raw', '{"name":"Alice"}']);
  });

  test('the function-level shape applies at /function/{name} and changes with a new version; a route shape changes live', async () => {
    const fn = await deploy({ name: 'shifting', runtime: 'node', code: NODE_ECHO, public: true, routes: [{ method: 'POST', path: '/shifting' }] });
    assert.equal((await (await postJson('/function/shifting', '{"a":1}')).json()).received.method, 'POST');
    const v2 = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}`, headers: alice, payload: { eventShape: 'body' } });
    assert.deepEqual([v2.json().version, v2.json().eventShape], [2, 'body']);
    assert.deepEqual(await (await postJson('/function/shifting', '{"a":1}')).json(), { received: { a: 1 } });
    assert.deepEqual(await (await postJson('/shifting', '{"a":2}')).json(), { received: { a: 2 } });
    const versions = (await p.api.inject({ method: 'GET', url: `/api/functions/${fn.id}/versions`, headers: alice })).json().items;
    assert.deepEqual(versions.map((v: { eventShape: string }) => v.eventShape), ['body', 'http']);
    const set = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}/routes`, headers: alice, payload: { routes: [{ method: 'POST', path: '/shifting', eventShape: 'http' }] } });
    assert.deepEqual(set.json().routes, [{ method: 'POST', path: '/shifting', auth: 'public', eventShape: 'http' }]);
    assert.equal((await (await postJson('/shifting', '{"a":3}')).json()).received.body, '{"a":3}');
    const listed = (await p.api.inject({ method: 'GET', url: '/api/routes', headers: alice })).json().items;
    assert.equal(listed.find((r: { path: string }) => r.path === '/shifting').eventShape, 'http');
    const cleared = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}/routes`, headers: alice, payload: { routes: [{ method: 'POST', path: '/shifting', eventShape: null }] } });
    assert.deepEqual(cleared.json().routes, [{ method: 'POST', path: '/shifting', auth: 'public' }], 'null: back to the function\'s shape');
    assert.deepEqual(await (await postJson('/shifting', '{"a":4}')).json(), { received: { a: 4 } });
  });

  test('an unknown shape is refused with 400 VALIDATION_FAILED', async () => {
    for (const payload of [
      { name: 'bad-shape', runtime: 'node', code: NODE_ECHO, eventShape: 'xml' },
      { name: 'bad-shape', runtime: 'node', code: NODE_ECHO, routes: [{ method: 'GET', path: '/bad-shape', eventShape: 'xml' }] },
    ]) {
      const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });
      assert.equal(res.statusCode, 400);
      assert.equal(errorCode(res), 'VALIDATION_FAILED');
    }
  });
});
