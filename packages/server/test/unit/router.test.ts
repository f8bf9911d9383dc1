import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, type RouteEntry } from '../../src/gateway/router.ts';
import { checkRoute, parsePattern, shapeOf } from '../../src/functions/route-pattern.ts';
import { checkRoutes } from '../../src/functions/validation.ts';
import type { RouteMethod } from '../../src/core/types.ts';
import { AppError } from '../../src/core/errors.ts';

const route = (method: RouteMethod, path: string, fn = `${method} ${path}`): RouteEntry => ({ method, path, auth: 'public', functionId: fn, functionName: fn, ownerId: 'o' });

function hit(router: Router, method: string, path: string): { fn: string; params: Record<string, string> } | string {
  const found = router.find(method, path);
  if (found.kind === 'match') return { fn: found.route.functionId, params: { ...found.params } };
  return found.kind === 'method_not_allowed' ? `405 ${found.allow.join(',')}` : '404';
}

test('static, param and wildcard segments with per-segment precedence', () => {
  const r = new Router([route('GET', '/users/:id'), route('GET', '/users/me'), route('GET', '/files/*'), route('GET', '/files/:name/raw'), route('GET', '/')]);
  assert.deepEqual(hit(r, 'GET', '/users/me'), { fn: 'GET /users/me', params: {} });
  assert.deepEqual(hit(r, 'GET', '/users/42'), { fn: 'GET /users/:id', params: { id: '42' } });
  assert.deepEqual(hit(r, 'GET', '/files/a.txt/raw'), { fn: 'GET /files/:name/raw', params: { name: 'a.txt' } });
  // The param branch fails deeper down: the wildcard takes the whole rest.
  assert.deepEqual(hit(r, 'GET', '/files/a/b/c'), { fn: 'GET /files/*', params: { '*': 'a/b/c' } });
  assert.deepEqual(hit(r, 'GET', '/files'), { fn: 'GET /files/*', params: { '*': '' } });
  assert.deepEqual(hit(r, 'GET', '/'), { fn: 'GET /', params: {} });
  assert.equal(hit(r, 'GET', '/users'), '404');
  assert.equal(hit(r, 'GET', '/users/42/x'), '404');
});

test('a single trailing slash is ignored; empty segments never match', () => {
  const r = new Router([route('GET', '/a/:x'), route('GET', '/b')]);
  assert.deepEqual(hit(r, 'GET', '/b/'), { fn: 'GET /b', params: {} });
  assert.deepEqual(hit(r, 'GET', '/a/1/'), { fn: 'GET /a/:x', params: { x: '1' } });
  assert.equal(hit(r, 'GET', '/a//'), '404');
  assert.equal(hit(r, 'GET', '//b'), '404');
});

test('methods: backtracking per method, ANY, HEAD falls back to GET, 405 lists what is allowed', () => {
  const r = new Router([route('GET', '/a/b'), route('POST', '/a/:x'), route('ANY', '/any/:x'), route('DELETE', '/a/b')]);
  assert.deepEqual(hit(r, 'POST', '/a/b'), { fn: 'POST /a/:x', params: { x: 'b' } });
  assert.deepEqual(hit(r, 'HEAD', '/a/b'), { fn: 'GET /a/b', params: {} });
  assert.equal(hit(r, 'PUT', '/a/b'), '405 GET,HEAD,POST,DELETE');
  assert.equal(hit(r, 'PUT', '/a/c'), '405 POST');
  for (const m of ['GET', 'PATCH', 'OPTIONS', 'PROPFIND']) assert.deepEqual(hit(r, m, '/any/1'), { fn: 'ANY /any/:x', params: { x: '1' } });
});

test('routes with different parameter names on one shape keep their own names', () => {
  const r = new Router([route('GET', '/u/:id'), route('DELETE', '/u/:userId')]);
  assert.deepEqual(hit(r, 'GET', '/u/7'), { fn: 'GET /u/:id', params: { id: '7' } });
  assert.deepEqual(hit(r, 'DELETE', '/u/7'), { fn: 'DELETE /u/:userId', params: { userId: '7' } });
});

test('a route whose shape and method are already claimed is left out (first wins) and reported', () => {
  const r = new Router([route('GET', '/x/:a', 'first'), route('GET', '/x/:b', 'second'), route('ANY', '/x/:c', 'third'), route('POST', '/x/:d', 'fourth')]);
  assert.equal(r.size, 2);
  assert.deepEqual(r.skipped.map((s) => s.functionId), ['second', 'third']);
  assert.deepEqual(hit(r, 'GET', '/x/1'), { fn: 'first', params: { a: '1' } });
});

test('patterns: shapes erase parameter names; bad patterns and reserved prefixes are refused', () => {
  assert.equal(shapeOf(parsePattern('/users/:id/posts/*')), '/users/:/posts/*');
  assert.equal(shapeOf(parsePattern('/')), '/');
  for (const bad of ['users', '/a/', '/a//b', '/a/*/b', '/a/:', '/a/:1x', '/a/:x/:x', '/a b', '/a/../b', '/function/x', '/ws/chat', '/_skyscale/healthz', '/a/%2e', `/${'a'.repeat(600)}`]) {
    assert.throws(() => parsePattern(bad), (err: unknown) => err instanceof AppError && err.code === 'VALIDATION_FAILED', bad);
  }
  assert.deepEqual(checkRoute({ method: 'post', path: '/api/hello' }), { method: 'POST', path: '/api/hello', auth: 'public', shape: '/api/hello' });
  assert.throws(() => checkRoute({ method: 'TRACE', path: '/x' }), /route method/);
  assert.throws(() => checkRoute({ method: 'GET', path: '/x', auth: 'jwt' }), /route auth/);
});

test('one deploy cannot declare overlapping routes', () => {
  assert.equal(checkRoutes([{ method: 'GET', path: '/a/:x' }, { method: 'POST', path: '/a/:y' }]).length, 2);
  for (const pair of [[{ method: 'GET', path: '/a/:x' }, { method: 'GET', path: '/a/:y' }], [{ method: 'ANY', path: '/a' }, { method: 'PUT', path: '/a' }]]) {
    assert.throws(() => checkRoutes(pair), (err: unknown) => err instanceof AppError && err.code === 'ROUTE_CONFLICT');
  }
  assert.throws(() => checkRoutes(Array.from({ length: 51 }, (_, i) => ({ method: 'GET', path: `/r${i}` }))), /at most 50/);
});
