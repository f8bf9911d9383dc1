import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { runtimeSkip, sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

const ECHO = 'export const handler = (event) => event;';

describe('gateway: HTTP routes to functions', { skip }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let aliceKey: string;
  let bobKey: string;
  const gw = (path: string, init?: RequestInit) => fetch(p.gatewayUrl + path, init);

  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '2' });
    alice = (await p.user('alice')).auth;
    bob = (await p.user('bob')).auth;
    const key = async (auth: Record<string, string>) => (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: auth, payload: {} })).json().key as string;
    aliceKey = await key(alice);
    bobKey = await key(bob);
  });
  after(() => p.close());

  const deploy = async (payload: object, auth = alice, status = 201) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload });
    assert.equal(res.statusCode, status, res.body);
    return res.json();
  };
  const update = (id: string, payload: object, auth = alice) => p.api.inject({ method: 'PUT', url: `/api/functions/${id}`, headers: auth, payload });

  test('path parameters, wildcard rest and query reach the function; the call is a recorded sync execution', async () => {
    await deploy({ name: 'echo', runtime: 'node', code: ECHO, routes: [{ method: 'GET', path: '/users/:id' }, { method: 'GET', path: '/files/*' }] });
    const res = await gw('/users/a%20b?x=1&x=2&y=hi%20there&z=', { headers: { 'x-custom': 'abc' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const event = await res.json();
    assert.equal(event.method, 'GET');
    assert.equal(event.path, '/users/a%20b');
    assert.deepEqual(event.params, { id: 'a b' });
    assert.deepEqual(event.query, { x: ['1', '2'], y: 'hi there', z: '' });
    assert.equal(event.headers['x-custom'], 'abc');
    assert.equal(event.body, null);
    assert.equal(event.isBase64Encoded, false);

    const executionId = res.headers.get('x-execution-id');
    assert.ok(executionId);
    assert.ok(res.headers.get('x-request-id'));
    const record = (await p.api.inject({ method: 'GET', url: `/api/executions/${executionId}`, headers: alice })).json();
    assert.equal(record.status, 'succeeded');
    assert.equal(record.mode, 'sync');
    assert.equal(record.functionName, 'echo');
    assert.equal(record.input.path, '/users/a%20b');

    const files = await (await gw('/files/img/logo%20x.png')).json();
    assert.deepEqual(files.params, { '*': 'img/logo x.png' });
    assert.equal((await gw('/users/%E0%A4%A')).status, 400);
  });

  test('text bodies arrive as strings, binary bodies as base64; binary responses go out as bytes', async () => {
    await deploy({
      name: 'bytes', runtime: 'node',
      code: `export const handler = (e) => {
        if (e.method === 'PUT') return { statusCode: 200, body: JSON.stringify({ body: e.body, b64: e.isBase64Encoded }), headers: { 'content-type': 'application/json' } };
        const input = Buffer.from(e.body, e.isBase64Encoded ? 'base64' : 'utf8');
        const out = Buffer.from(input.map((b) => 255 - b));
        return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: out.toString('base64'), isBase64Encoded: true };
      };`,
      routes: [{ method: 'POST', path: '/invert' }, { method: 'PUT', path: '/invert' }],
    });
    const input = randomBytes(70_000);
    const res = await gw('/invert', { method: 'POST', body: input, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const out = Buffer.from(await res.arrayBuffer());
    assert.equal(out.length, input.length);
    assert.ok(out.every((b, i) => b === 255 - input[i]));

    const json = await (await gw('/invert', { method: 'PUT', body: '{"a":"ü"}', headers: { 'content-type': 'application/json' } })).json();
    assert.deepEqual(json, { body: '{"a":"ü"}', b64: false });
    // Not valid UTF-8 under a text type: it still arrives intact, as base64.
    const latin = await (await gw('/invert', { method: 'PUT', body: Buffer.from([0xff, 0xfe, 0x41]), headers: { 'content-type': 'text/plain' } })).json();
    assert.deepEqual(latin, { body: Buffer.from([0xff, 0xfe, 0x41]).toString('base64'), b64: true });
  });

  test('response status and headers come from the function; other values are JSON 200; a Web Response works', async () => {
    await deploy({
      name: 'shapes', runtime: 'node',
      code: `export const handler = (e) => {
        if (e.params.kind === 'created') return { statusCode: 201, headers: { 'X-Out': 'v', Location: '/things/1', 'content-length': '9999' }, cookies: ['a=1', 'b=2; Path=/'], body: 'made' };
        if (e.params.kind === 'empty') return { statusCode: 204 };
        if (e.params.kind === 'object') return { statusCode: 202, body: { queued: true } };
        if (e.params.kind === 'web') return new Response(new Uint8Array([0, 1, 2, 250]), { status: 203, headers: { 'content-type': 'image/x-test', 'x-web': 'yes' } });
        if (e.params.kind === 'webtext') return new Response('héllo', { status: 200, headers: { 'set-cookie': 'c=3' } });
        if (e.params.kind === 'plain') return [1, 'two', { three: 3 }];
        return null;
      };`,
      routes: [{ method: 'GET', path: '/shape/:kind' }],
    });
    const created = await gw('/shape/created');
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('x-out'), 'v');
    assert.equal(created.headers.get('location'), '/things/1');
    assert.deepEqual(created.headers.getSetCookie(), ['a=1', 'b=2; Path=/']);
    assert.equal(created.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await created.text(), 'made');

    const empty = await gw('/shape/empty');
    assert.equal(empty.status, 204);
    assert.equal(await empty.text(), '');
    const object = await gw('/shape/object');
    assert.equal(object.status, 202);
    assert.deepEqual(await object.json(), { queued: true });
    const web = await gw('/shape/web');
    assert.equal(web.status, 203);
    assert.equal(web.headers.get('x-web'), 'yes');
    assert.equal(web.headers.get('content-type'), 'image/x-test');
    assert.deepEqual([...new Uint8Array(await web.arrayBuffer())], [0, 1, 2, 250]);
    const webText = await gw('/shape/webtext');
    assert.equal(await webText.text(), 'héllo');
    assert.deepEqual(webText.headers.getSetCookie(), ['c=3']);
    assert.deepEqual(await (await gw('/shape/plain')).json(), [1, 'two', { three: 3 }]);
    const nothing = await gw('/shape/none');
    assert.equal(nothing.status, 200);
    assert.equal(await nothing.text(), 'null');
    const head = await gw('/shape/created', { method: 'HEAD' });
    assert.equal(head.status, 201);
    assert.equal(head.headers.get('content-length'), '4');
    assert.equal(await head.text(), '');
  });

  test('no route is a 404 with the error shape; a known path with another method is a 405 with Allow; ANY takes every method', async () => {
    const missing = await gw('/no/such/route');
    assert.equal(missing.status, 404);
    const body = await missing.json();
    assert.equal(body.error.code, 'ROUTE_NOT_FOUND');
    assert.equal(body.error.requestId, missing.headers.get('x-request-id'));
    assert.equal(typeof body.error.message, 'string');

    const wrong = await gw('/users/1', { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD');
    assert.equal((await wrong.json()).error.code, 'METHOD_NOT_ALLOWED');

    await deploy({ name: 'any', runtime: 'node', code: ECHO, routes: [{ method: 'any', path: '/any/:x' }] });
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const res = await gw('/any/1', { method, body: method === 'GET' ? undefined : 'hi' });
      assert.equal(res.status, 200, method);
      const event = await res.json();
      assert.equal(event.method, method);
      if (method !== 'GET') assert.equal(event.body, 'hi');
    }
  });

  test('failures map to HTTP: thrown → 502, timeout → 504, bad response → 502, each with the execution id', async () => {
    await deploy({
      name: 'fails', runtime: 'node', timeoutMs: 300,
      code: `export const handler = async (e) => {
        if (e.params.how === 'throw') throw new Error('secret internals');
        if (e.params.how === 'slow') await new Promise((r) => setTimeout(r, 5000));
        if (e.params.how === 'status') return { statusCode: 99 };
        if (e.params.how === 'header') return { statusCode: 200, headers: { 'x-a': 'a\\r\\nset-cookie: evil=1' } };
        return 'ok';
      };`,
      routes: [{ method: 'GET', path: '/fail/:how' }],
    });
    const thrown = await gw('/fail/throw');
    assert.equal(thrown.status, 502);
    const error = (await thrown.json()).error;
    assert.equal(error.code, 'EXECUTION_FAILED');
    assert.equal(error.details.status, 'failed');
    assert.equal(error.details.executionId, thrown.headers.get('x-execution-id'));
    assert.doesNotMatch(error.message, /secret internals/);
    const record = (await p.api.inject({ method: 'GET', url: `/api/executions/${error.details.executionId}`, headers: alice })).json();
    assert.match(record.error.message, /secret internals/);

    const slow = await gw('/fail/slow');
    assert.equal(slow.status, 504);
    assert.equal((await slow.json()).error.code, 'FUNCTION_TIMEOUT');
    for (const how of ['status', 'header']) {
      const bad = await gw(`/fail/${how}`);
      assert.equal(bad.status, 502, how);
      assert.equal(bad.headers.get('set-cookie'), null);
      assert.equal((await bad.json()).error.code, 'INVALID_FUNCTION_RESPONSE');
      assert.ok(bad.headers.get('x-execution-id'));
    }
    assert.equal(await (await gw('/fail/fine')).json(), 'ok');
  });

  test('per-route auth: public routes are open; api_key routes need a key of the owner, which the function never sees', async () => {
    await deploy({ name: 'guarded', runtime: 'node', code: ECHO, routes: [{ method: 'GET', path: '/open' }, { method: 'GET', path: '/guarded', auth: 'api_key' }] });
    const open = await (await gw('/open', { headers: { authorization: 'Bearer app-session-token', 'x-api-key': 'app-own-key' } })).json();
    assert.equal(open.headers.authorization, 'Bearer app-session-token');
    assert.equal(open.headers['x-api-key'], 'app-own-key');

    const none = await gw('/guarded');
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.code, 'UNAUTHENTICATED');
    const bogus = await gw('/guarded', { headers: { 'x-api-key': 'sk_not-a-real-key' } });
    assert.equal(bogus.status, 401);
    assert.equal((await bogus.json()).error.code, 'INVALID_TOKEN');
    const others = await gw('/guarded', { headers: { 'x-api-key': bobKey } });
    assert.equal(others.status, 401);
    assert.equal((await others.json()).error.code, 'INVALID_TOKEN');
    const sessionToken = await gw('/guarded', { headers: alice });
    assert.equal(sessionToken.status, 401, 'session tokens are for the control plane');

    for (const headers of [{ 'x-api-key': aliceKey }, { authorization: `Bearer ${aliceKey}` }] as Array<Record<string, string>>) {
      const res = await gw('/guarded', { headers });
      assert.equal(res.status, 200);
      const event = await res.json();
      assert.equal(event.headers['x-api-key'], undefined);
      assert.equal(event.headers.authorization, undefined);
    }
  });

  test('/function/{name}: yours with your key, public ones for anyone, never another owner\'s private one', async () => {
    const priv = await deploy({ name: 'private-fn', runtime: 'node', code: ECHO });
    assert.equal(priv.public, false);
    assert.equal((await gw('/function/private-fn')).status, 404);
    assert.equal((await gw('/function/private-fn', { headers: { 'x-api-key': bobKey } })).status, 404);
    assert.equal((await gw('/function/private-fn', { headers: { 'x-api-key': 'sk_bogus' } })).status, 401);
    const mine = await gw('/function/private-fn/deep/path?q=1', { method: 'POST', body: 'x', headers: { 'x-api-key': aliceKey } });
    assert.equal(mine.status, 200);
    const event = await mine.json();
    assert.equal(event.path, '/deep/path');
    assert.equal(event.method, 'POST');
    assert.deepEqual(event.query, { q: '1' });
    assert.equal(event.headers['x-api-key'], undefined);

    const pub = await deploy({ name: 'Greeter', runtime: 'node', code: ECHO, public: true });
    assert.equal(pub.public, true);
    const anon = await gw('/function/Greeter');
    assert.equal(anon.status, 200);
    assert.equal((await anon.json()).path, '/');
    // Bob's key is not forwarded to Alice's code.
    const viaBob = await (await gw('/function/Greeter/x', { headers: { authorization: `Bearer ${bobKey}` } })).json();
    assert.equal(viaBob.headers.authorization, undefined);
    // Public names are unique regardless of case; private ones only per owner.
    const taken = await p.api.inject({ method: 'POST', url: '/api/functions', headers: bob, payload: { name: 'greeter', runtime: 'node', code: ECHO, public: true } });
    assert.equal(taken.statusCode, 409);
    assert.equal(errorCode(taken), 'PUBLIC_NAME_TAKEN');
    assert.equal((await p.api.inject({ method: 'GET', url: '/api/functions/name/greeter', headers: bob })).statusCode, 404, 'the refused deploy left nothing behind');
    await deploy({ name: 'Greeter', runtime: 'node', code: 'export const handler = () => "bob";' }, bob);
    assert.equal(await (await gw('/function/Greeter', { headers: { 'x-api-key': bobKey } })).json(), 'bob');
    assert.equal((await (await gw('/function/Greeter')).json()).path, '/');

    const off = await update(pub.id, { public: false });
    assert.equal(off.json().public, false);
    assert.equal((await gw('/function/Greeter')).status, 404);
  });

  test('route conflicts across owners are refused with 409; precedence settles the rest', async () => {
    const a = await deploy({ name: 'c-alice', runtime: 'node', code: 'export const handler = (e) => ["alice", e.params];', routes: [{ method: 'GET', path: '/c/:id' }] });
    for (const routes of [[{ method: 'GET', path: '/c/:name' }], [{ method: 'ANY', path: '/c/:x' }], [{ method: 'POST', path: '/ok' }, { method: 'GET', path: '/c/:y' }]]) {
      const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: bob, payload: { name: 'c-bob', runtime: 'node', code: ECHO, routes } });
      assert.equal(res.statusCode, 409, JSON.stringify(routes));
      const error = res.json().error;
      assert.equal(error.code, 'ROUTE_CONFLICT');
      assert.deepEqual(error.details.conflictsWith, { method: 'GET', path: '/c/:id' });
      assert.doesNotMatch(JSON.stringify(error), /c-alice|alice/, 'the other owner is not revealed');
    }
    assert.equal((await gw('/ok', { method: 'POST' })).status, 404, 'a refused deploy adds none of its routes');
    await deploy({ name: 'c-bob', runtime: 'node', code: 'export const handler = (e) => ["bob", e.params];', routes: [{ method: 'POST', path: '/c/:x' }, { method: 'GET', path: '/c/me' }] }, bob);
    assert.deepEqual(await (await gw('/c/me')).json(), ['bob', {}]);
    assert.deepEqual(await (await gw('/c/7')).json(), ['alice', { id: '7' }]);
    assert.deepEqual(await (await gw('/c/7', { method: 'POST' })).json(), ['bob', { x: '7' }]);

    // Bad and reserved patterns are validation errors; a function may re-declare its own routes.
    for (const path of ['/function/x', '/a//b', 'relative']) {
      const res = await update(a.id, { routes: [{ method: 'GET', path }] });
      assert.equal(res.statusCode, 400, path);
    }
    const same = await update(a.id, { routes: [{ method: 'GET', path: '/c/:id' }, { method: 'PUT', path: '/c/:id' }] });
    assert.equal(same.statusCode, 200, same.body);
    assert.equal((await gw('/c/7', { method: 'PUT' })).status, 200);
  });

  test('routes follow the function: kept by updates that omit them, replaced or removed by updates, gone with the function', async () => {
    const fn = await deploy({ name: 'life', runtime: 'node', code: 'export const handler = () => "v1";', routes: [{ method: 'GET', path: '/life' }] });
    assert.equal(await (await gw('/life')).json(), 'v1');
    const v2 = await update(fn.id, { code: 'export const handler = () => "v2";' });
    assert.deepEqual(v2.json().routes, [{ method: 'GET', path: '/life', auth: 'public' }]);
    assert.equal(await (await gw('/life')).json(), 'v2', 'the latest version serves the route');
    await update(fn.id, { routes: [{ method: 'GET', path: '/life2', auth: 'api_key' }] });
    assert.equal((await gw('/life')).status, 404);
    assert.equal((await gw('/life2')).status, 401);

    const list = (await p.api.inject({ method: 'GET', url: '/api/routes', headers: alice })).json().items;
    assert.ok(list.some((r: { path: string; functionName: string; auth: string }) => r.path === '/life2' && r.functionName === 'life' && r.auth === 'api_key'));
    assert.ok(!list.some((r: { functionName: string }) => r.functionName === 'c-bob'), "another owner's routes are not listed");

    await update(fn.id, { routes: [] });
    assert.equal((await gw('/life2')).status, 404);
    await update(fn.id, { routes: [{ method: 'GET', path: '/life3' }] });
    assert.equal((await gw('/life3')).status, 200);
    assert.equal((await p.api.inject({ method: 'DELETE', url: `/api/functions/${fn.id}`, headers: alice })).statusCode, 204);
    assert.equal((await gw('/life3')).status, 404);
  });

  test('python functions serve routes too', async () => {
    await deploy({
      name: 'py-route', runtime: 'python',
      code: 'import base64\ndef handler(event, context):\n    if event["method"] == "POST":\n        data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()\n        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"}, "body": base64.b64encode(data[::-1]).decode(), "isBase64Encoded": True}\n    return {"statusCode": 200, "headers": {"x-lang": "python"}, "body": {"hello": event["params"]["name"], "q": event["query"]}}\n',
      routes: [{ method: 'GET', path: '/py/:name' }, { method: 'POST', path: '/py/:name' }],
    });
    const res = await gw('/py/ada?lang=py');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-lang'), 'python');
    assert.deepEqual(await res.json(), { hello: 'ada', q: { lang: 'py' } });
    const bytes = await gw('/py/ada', { method: 'POST', body: Buffer.from([1, 2, 3, 255]), headers: { 'content-type': 'application/octet-stream' } });
    assert.deepEqual([...new Uint8Array(await bytes.arrayBuffer())], [255, 3, 2, 1]);
  });

  test('php and wasm functions serve routes too', { skip: runtimeSkip('php') }, async () => {
    const example = (file: string) => readFileSync(new URL(`../../../../examples/${file}`, import.meta.url));
    await deploy({
      name: 'php-route', runtime: 'php',
      code: '<?php\nfunction handler($event, $context) {\n  return ["statusCode" => 201, "headers" => ["x-lang" => "php"], "body" => ["id" => $event["params"]["id"], "q" => $event["query"]["q"] ?? null, "method" => $event["method"]]];\n}\n',
      routes: [{ method: 'ANY', path: '/php/items/:id' }],
    });
    const php = await gw('/php/items/42?q=find', { method: 'PUT', body: 'x' });
    assert.equal(php.status, 201);
    assert.equal(php.headers.get('x-lang'), 'php');
    assert.deepEqual(await php.json(), { id: '42', q: 'find', method: 'PUT' });

    // hello-wasm reads the first "name" string of its input: here the route's :name parameter.
    await deploy({ name: 'wasm-route', runtime: 'wasm', files: { 'main.wasm': { content: example('hello-wasm/main.wasm').toString('base64'), encoding: 'base64' } }, routes: [{ method: 'GET', path: '/wasm/hello/:name' }] });
    const wasm = await gw('/wasm/hello/Ada');
    assert.equal(wasm.status, 200);
    assert.deepEqual(await wasm.json(), { message: 'Hello Ada' });
    // The exported-handler module keeps its memory between requests on the warm instance.
    await deploy({ name: 'wasm-counter-route', runtime: 'wasm', files: { 'main.wasm': { content: example('counter-wasm/main.wasm').toString('base64'), encoding: 'base64' } }, routes: [{ method: 'POST', path: '/wasm/count' }] });
    const counts = [];
    for (let n = 0; n < 3; n++) counts.push((await (await gw('/wasm/count', { method: 'POST', body: '{}' })).json()).count);
    assert.deepEqual(counts, [1, 2, 3]);
  });

  test('a body over MAX_BODY_BYTES is refused with 413; upgrade requests nobody claims get a 404', async () => {
    await deploy({ name: 'sink', runtime: 'node', code: 'export const handler = (e) => (e.body ?? "").length;', routes: [{ method: 'POST', path: '/sink' }] });
    const big = await gw('/sink', { method: 'POST', body: Buffer.alloc(7 * 1024 * 1024) });
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(await (await gw('/sink', { method: 'POST', body: 'abc' })).json(), 3);

    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${p.gatewayUrl}/some-stream`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
      req.on('response', (res) => resolve(res.statusCode));
      req.on('upgrade', () => resolve(101));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 404);
  });
  test('gateway requests are counted in /metrics by route pattern (never the raw URL), their invocations as mode http', async () => {
    await deploy({ name: 'metered', runtime: 'node', code: 'export const handler = () => "ok";', routes: [{ method: 'GET', path: '/metered/:id' }, { method: 'GET', path: '/metered-key', auth: 'api_key' }], public: true });
    // alice registered first: she is the admin, who may read /metrics.
    const scrape = async () => (await p.api.inject({ method: 'GET', url: '/metrics', headers: alice })).body;
    const count = (text: string, labels: string) => Number(new RegExp(`^skyscale_http_requests_total\\{${labels.replace(/[()]/g, '\\$&')}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = await scrape();
    for (const path of ['/metered/1', '/metered/2', '/metered-key', '/no-such-route-x1', '/function/metered']) await (await gw(path)).arrayBuffer();
    const text = await scrape();
    const added = (labels: string) => count(text, labels) - count(before, labels);
    assert.equal(added('plane="gateway",route="/metered/:id",method="GET",status="200"'), 2, text.split('\n').filter((l) => l.includes('gateway')).join('\n'));
    assert.equal(added('plane="gateway",route="/metered-key",method="GET",status="401"'), 1);
    assert.equal(added('plane="gateway",route="/function/:name",method="GET",status="200"'), 1);
    assert.equal(added('plane="gateway",route="(unmatched)",method="GET",status="404"'), 1);
    assert.doesNotMatch(text, /no-such-route-x1|metered\/1/, 'raw paths never become labels');
    assert.match(text, /^skyscale_invocations_total\{function="metered",function_id="[^"]+",runtime="node",mode="http",status="succeeded"\} 3$/m);
  });
  test('PUT /api/functions/{id}/routes changes routes and the public flag alone: no new version, the warm instance keeps serving', async () => {
    const fn = await deploy({ name: 'rerouted', runtime: 'node', code: 'export const handler = () => "same";', routes: [{ method: 'GET', path: '/before' }] });
    const first = await gw('/before');
    assert.equal(first.status, 200);
    const instance = async (res: Response) => (await p.api.inject({ method: 'GET', url: `/api/executions/${res.headers.get('x-execution-id')}`, headers: alice })).json().instanceId as string;
    const warm = await instance(first);

    const set = (payload: object, auth = alice) => p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}/routes`, headers: auth, payload });
    const moved = await set({ routes: [{ method: 'POST', path: '/after/:id' }, { method: 'GET', path: '/after/:id', auth: 'api_key' }], public: true });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.deepEqual(moved.json(), { public: true, routes: [{ method: 'GET', path: '/after/:id', auth: 'api_key' }, { method: 'POST', path: '/after/:id', auth: 'public' }] });
    assert.equal((await gw('/before')).status, 404, 'in effect as soon as the API answered');
    const after = await gw('/after/1', { method: 'POST' });
    assert.equal(after.status, 200);
    assert.equal(await instance(after), warm, 'the same warm instance: no new version was made');
    assert.equal((await gw('/function/rerouted')).status, 200);
    const info = (await p.api.inject({ method: 'GET', url: `/api/functions/${fn.id}`, headers: alice })).json();
    assert.equal(info.version, 1);
    assert.equal(info.public, true);

    assert.deepEqual((await set({ public: false })).json().routes.length, 2, 'routes left out stay as they are');
    assert.equal((await gw('/function/rerouted')).status, 404);
    assert.equal((await set({ routes: [] })).json().routes.length, 0);
    assert.equal((await gw('/after/1', { method: 'POST' })).status, 404);

    assert.equal((await set({ routes: [{ method: 'GET', path: '/x' }] }, bob)).statusCode, 404, "another owner's function is not found");
    assert.equal((await set({ routes: [{ method: 'GET', path: '/c/:other' }] })).statusCode, 409, 'conflicts are refused as at deploy');
    assert.equal((await set({ routes: [{ method: 'GET', path: 'nope' }] })).statusCode, 400);
    assert.equal((await set({ rutes: [] })).statusCode, 400);
    const spec = (await p.api.inject({ method: 'GET', url: '/docs/json' })).json();
    assert.ok(spec.paths['/api/v1/functions/{id}/routes']?.put, 'OpenAPI lists PUT /api/v1/functions/{id}/routes');
    assert.ok(spec.paths['/api/v1/routes']?.get, 'OpenAPI lists GET /api/v1/routes');
  });

});
