import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';

let p: TestPlatform;
let spec: { paths: Record<string, Record<string, { summary?: string; responses: Record<string, unknown> }>> };
before(async () => {
  p = await testPlatform({ WARM_POOL_SIZE: '0', SANDBOX_LAUNCHERS: '0' });
  spec = (await p.api.inject({ method: 'GET', url: '/docs/json' })).json();
});
after(() => p.close());

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
const operations = () => Object.entries(spec.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.has(m)).map((method) => ({ method, path })));
const routeUrl = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ':$1');

test('the OpenAPI document lists each operation once: under /api/v1, not again under its /api alias', () => {
  const paths = Object.keys(spec.paths);
  assert.deepEqual(paths.filter((path) => path.startsWith('/api/') && !path.startsWith('/api/v1/')), [], 'no unversioned /api/... path');
  const v1 = operations().filter((op) => op.path.startsWith('/api/v1/'));
  assert.ok(v1.length >= 29, `every /api/v1 operation is listed (${v1.length})`);
  for (const path of ['/auth/register', '/auth/login', '/healthz', '/readyz', '/metrics']) assert.ok(spec.paths[path], `root path ${path} is listed`);
  const summaries = v1.map((op) => `${op.method} ${spec.paths[op.path][op.method].summary}`);
  assert.equal(new Set(summaries).size, summaries.length, 'no operation is listed twice under another path');
});

test('every listed /api/v1 operation is still answered under /api', async () => {
  for (const { method, path } of operations().filter((op) => op.path.startsWith('/api/v1/'))) {
    const alias = routeUrl(path).replace('/api/v1/', '/api/');
    assert.ok(p.api.hasRoute({ method: method.toUpperCase() as 'GET', url: alias }), `${method.toUpperCase()} ${alias} is a route`);
  }
  const unauthenticated = await p.api.inject({ method: 'GET', url: '/api/functions' });
  assert.equal(unauthenticated.statusCode, 401, 'the alias answers as the versioned route does');
});

test('responses are described by schemas, not left open', () => {
  const json = (path: string, method: string, status = '200') =>
    (spec.paths[path][method].responses[status] as { content: Record<string, { schema: Record<string, unknown> }> }).content['application/json'].schema;
  const system = json('/api/v1/system', 'get');
  assert.ok((system.properties as Record<string, unknown>).sandbox, 'GET /system has a schema');
  const invoke = json('/api/v1/functions/{id}/invoke', 'post');
  assert.ok((invoke.properties as Record<string, unknown>).status, 'invoke 200 is the execution record');
  const fn = json('/api/v1/functions/{id}', 'get').properties as Record<string, { enum?: string[] }>;
  assert.deepEqual(fn.runtime.enum, ['node', 'python', 'php', 'wasm', 'command']);
  assert.deepEqual(fn.codeSource.enum, ['inline', 'files', 'bundle']);
  const version = (json('/api/v1/functions/{id}/versions', 'get').properties as Record<string, { items: { properties: Record<string, unknown> } }>).items.items.properties;
  assert.equal('public' in version || 'routes' in version || 'id' in version, false, 'a version has no id, public flag or routes');
});
