import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';

let p: TestPlatform;
let auth: Record<string, string>;
before(async () => {
  p = await testPlatform({ MAX_BODY_BYTES: '65536', MAX_BUNDLE_BYTES: '65536' });
  auth = (await p.user('mallory')).auth;
});
after(() => p.close());

function assertCleanError(res: { statusCode: number; body: string; headers: Record<string, unknown> }, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  const body = JSON.parse(res.body);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(body.error.requestId, res.headers['x-request-id']);
  assert.ok(!/\bat .*\.(ts|js):\d+/.test(res.body), 'no stack trace in the body');
}

test('malformed JSON, empty bodies and wrong content types are 4xx with codes', async () => {
  const json = { ...auth, 'content-type': 'application/json' };
  assertCleanError(await p.api.inject({ method: 'POST', url: '/api/functions', headers: json, payload: '{"name": "x",' }), 400, 'INVALID_JSON');
  assertCleanError(await p.api.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '' }), 400, 'INVALID_JSON');
  assertCleanError(await p.api.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'text/xml' }, payload: '<x/>' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assertCleanError(await p.api.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '[1,2,3]' }), 400, 'VALIDATION_FAILED');
  assertCleanError(await p.api.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: 'null' }), 400, 'VALIDATION_FAILED');
});

test('prototype-pollution bodies are refused and pollute nothing', async () => {
  const bodies = [
    '{"name":"pp","runtime":"node","code":"x","__proto__":{"polluted":true}}',
    '{"name":"pp","runtime":"node","code":"x","constructor":{"prototype":{"polluted":true}}}',
    '{"name":"pp","runtime":"node","code":"x","env":{"__proto__":{"polluted":"yes"}}}',
  ];
  for (const payload of bodies) {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: { ...auth, 'content-type': 'application/json' }, payload });
    assert.ok(res.statusCode === 400, `${payload} → ${res.statusCode} ${res.body}`);
    assert.ok(errorCode(res) !== undefined);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('oversize bodies are 413', async () => {
  const big = JSON.stringify({ name: 'big', runtime: 'node', code: 'x'.repeat(70_000) });
  assertCleanError(await p.api.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: big }), 413, 'PAYLOAD_TOO_LARGE');
  const boundary = 'b0undary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"name":"huge","runtime":"node"}\r\n--${boundary}\r\nContent-Disposition: form-data; name="bundle"; filename="b.tar.gz"\r\n\r\n`),
    Buffer.alloc(200_000, 1),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
  assertCleanError(res, 413, 'PAYLOAD_TOO_LARGE');
  const list = await p.api.inject({ method: 'GET', url: '/api/functions', headers: auth });
  assert.deepEqual(list.json().items, [], 'nothing half-created');
});

test('unknown routes and methods answer a coded 404', async () => {
  assertCleanError(await p.api.inject({ method: 'GET', url: '/api/nope' }), 404, 'ROUTE_NOT_FOUND');
  assertCleanError(await p.api.inject({ method: 'PATCH', url: '/api/functions' }), 404, 'ROUTE_NOT_FOUND');
  assertCleanError(await p.api.inject({ method: 'GET', url: '/../../etc/passwd' }), 404, 'ROUTE_NOT_FOUND');
});

test('unauthenticated access to the API is 401 everywhere', async () => {
  for (const url of ['/api/functions', '/api/v1/functions', '/api/auth/api-keys', '/api/users']) {
    assertCleanError(await p.api.inject({ method: 'GET', url }), 401, 'UNAUTHENTICATED');
  }
  assertCleanError(await p.api.inject({ method: 'GET', url: '/api/functions', headers: { authorization: 'Bearer ' + 'a'.repeat(5000) } }), 401, 'INVALID_TOKEN');
});

test('health, readiness and the OpenAPI document are served', async () => {
  assert.deepEqual((await p.api.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
  assert.deepEqual((await p.api.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ready' });
  const doc = await p.api.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(doc.statusCode, 200);
  const spec = doc.json();
  assert.equal(spec.openapi.slice(0, 2), '3.');
  for (const route of ['/api/v1/functions', '/api/v1/functions/{id}', '/api/v1/functions/name/{name}', '/auth/login', '/api/v1/auth/api-key']) {
    assert.ok(spec.paths[route] !== undefined, `OpenAPI lists ${route}`);
  }
  assert.equal((await p.api.inject({ method: 'GET', url: '/docs' })).statusCode < 400, true);
});

test('a caller-supplied request id is echoed only when it is safe', async () => {
  const ok = await p.api.inject({ method: 'GET', url: '/api/nope', headers: { 'x-request-id': 'abc-123' } });
  assert.equal(ok.json().error.requestId, 'abc-123');
  const evil = await p.api.inject({ method: 'GET', url: '/api/nope', headers: { 'x-request-id': 'x\u001b[31mred' } });
  assert.notEqual(evil.json().error.requestId, 'x\u001b[31mred');
});
