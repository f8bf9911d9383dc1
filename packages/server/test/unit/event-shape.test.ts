import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventFor, type HttpEvent } from '../../src/gateway/http-event.ts';

const request = (over: Partial<HttpEvent>): HttpEvent => ({ method: 'POST', path: '/api/hello', params: {}, query: {}, headers: { 'content-type': 'application/json' }, body: null, isBase64Encoded: false, ...over });

test('http: the function receives the request itself', () => {
  const r = request({ body: '{"name":"Alice"}' });
  assert.equal(eventFor('http', r), r);
});

test('body: a JSON body parsed, whatever the content type; other text as it came; binary as its base64 text', () => {
  assert.deepEqual(eventFor('body', request({ body: '{"name":"Alice"}' })), { name: 'Alice' });
  assert.deepEqual(eventFor('body', request({ body: '{"name":"Alice"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } })), { name: 'Alice' });
  assert.deepEqual(eventFor('body', request({ body: '[1, 2]' })), [1, 2]);
  assert.equal(eventFor('body', request({ body: '42' })), 42);
  assert.equal(eventFor('body', request({ body: 'name=Alice', headers: { 'content-type': 'application/x-www-form-urlencoded' } })), 'name=Alice');
  assert.equal(eventFor('body', request({ body: '{"name": ' })), '{"name": ', 'broken JSON stays text');
  assert.equal(eventFor('body', request({ body: 'AAEC/w==', isBase64Encoded: true })), 'AAEC/w==');
});

test('body without a body (a GET): the query and the path parameters as one object, parameters winning', () => {
  const get = request({ method: 'GET', path: '/users/7', params: { id: '7' }, query: { id: 'from-query', tag: ['a', 'b'], q: 'x' } });
  assert.deepEqual(eventFor('body', get), { id: '7', tag: ['a', 'b'], q: 'x' });
  assert.deepEqual(eventFor('body', request({ method: 'GET' })), {});
  const sneaky = Object.assign(Object.create(null) as Record<string, string>, { ['__proto__']: 'x' });
  const event = eventFor('body', request({ method: 'GET', query: sneaky })) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(event), Object.prototype, 'a "__proto__" query key stays a plain key');
  assert.equal(JSON.stringify(event), '{"__proto__":"x"}');
});
