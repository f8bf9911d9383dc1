/** Error messages that say what to do: how to authenticate, what was not found, what to send. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';

let p: TestPlatform;
let auth: Record<string, string>;
before(async () => {
  p = await testPlatform({ WARM_POOL_SIZE: '0' });
  auth = (await p.user('ada')).auth;
});
after(() => p.close());

function error(res: { statusCode: number; body: string }, status: number, code: string): string {
  assert.equal(res.statusCode, status, res.body);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code);
  return body.error.message;
}

test('UNAUTHENTICATED says how to authenticate: log in, the headers, the CLI', async () => {
  const message = error(await p.api.inject({ method: 'GET', url: '/api/functions' }), 401, 'UNAUTHENTICATED');
  assert.match(message, /POST \/auth\/login/);
  assert.match(message, /`Authorization: Bearer <token>`/);
  assert.match(message, /`X-API-Key: <key>`/);
  assert.match(message, /`skyscale login`, or set SKYSCALE_API_KEY/);
});

test('a function that is not found is named, by name or by id', async () => {
  assert.equal(error(await p.api.inject({ method: 'GET', url: '/api/functions/name/no-such-fn', headers: auth }), 404, 'NOT_FOUND'), 'Function "no-such-fn" not found');
  const invoke = await p.api.inject({ method: 'POST', url: '/api/functions/name/no-such-fn/invoke', headers: { ...auth, 'content-type': 'application/json' }, payload: '{}' });
  assert.equal(error(invoke, 404, 'NOT_FOUND'), 'Function "no-such-fn" not found');
  const id = randomUUID();
  assert.equal(error(await p.api.inject({ method: 'GET', url: `/api/functions/${id}`, headers: auth }), 404, 'NOT_FOUND'), `Function with id "${id}" not found`);
  assert.equal(error(await p.api.inject({ method: 'DELETE', url: `/api/functions/${id}`, headers: auth }), 404, 'NOT_FOUND'), `Function with id "${id}" not found`);
  const long = 'x'.repeat(300);
  assert.equal(error(await p.api.inject({ method: 'GET', url: `/api/functions/name/${long}`, headers: auth }), 404, 'NOT_FOUND').length < 200, true, 'what the client sent is cut short');
});

test('a 415 says to send JSON with content-type: application/json, and what was sent', async () => {
  const xml = error(await p.api.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'text/xml' }, payload: '<x/>' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assert.match(xml, /^This endpoint does not accept content-type "text\/xml": send JSON with the header `content-type: application\/json`/);
  const none = error(await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: 'name=x' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  assert.match(none, /^This endpoint does not accept a body without a content-type: send JSON/);
});
