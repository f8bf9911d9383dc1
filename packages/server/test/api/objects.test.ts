import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';

let p: TestPlatform;
let alice: Record<string, string>;
let bob: Record<string, string>;
let fnId: string;
before(async () => {
  p = await testPlatform({ MAX_OBJECT_BYTES: String(2 * 1024 * 1024) }, { listen: true });
  alice = (await p.user('alice')).auth;
  bob = (await p.user('bob')).auth;
  fnId = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'owner-fn', runtime: 'node', code: 'export const handler = () => 1;' } })).json().id;
});
after(() => p.close());

const url = (name: string, id = fnId) => `/api/function-objects/${id}/${encodeURIComponent(name)}`;

test('upload raw bytes, download them with type and length, list, replace, delete', async () => {
  const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
  const up = await p.api.inject({ method: 'POST', url: url('data.bin'), headers: { ...alice, 'content-type': 'application/octet-stream' }, payload: bytes });
  assert.equal(up.statusCode, 201, up.body);
  assert.equal(up.json().size, 3000);
  assert.equal(up.json().checksum, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  const down = await p.api.inject({ method: 'GET', url: url('data.bin'), headers: alice });
  assert.equal(down.statusCode, 200);
  assert.equal(down.headers['content-type'], 'application/octet-stream');
  assert.equal(down.headers['content-length'], '3000');
  assert.deepEqual(down.rawPayload, bytes);

  const json = await p.api.inject({ method: 'PUT', url: url('config.json'), headers: { ...alice, 'content-type': 'application/json' }, payload: '{"not":"parsed"}' });
  assert.equal(json.statusCode, 200, json.body);
  assert.equal((await p.api.inject({ method: 'GET', url: url('config.json'), headers: alice })).body, '{"not":"parsed"}');
  await p.api.inject({ method: 'PUT', url: url('config.json'), headers: { ...alice, 'content-type': 'application/json' }, payload: '{"v":2}' });
  assert.equal((await p.api.inject({ method: 'GET', url: url('config.json'), headers: alice })).body, '{"v":2}');

  const list = (await p.api.inject({ method: 'GET', url: `/api/function-objects/${fnId}`, headers: alice })).json().items;
  assert.deepEqual(list.map((o: { name: string }) => o.name), ['config.json', 'data.bin']);
  assert.equal(readdirSync(path.join(p.dataDir, 'objects', fnId)).length, 2, 'a replaced object leaves no file behind');
  assert.equal((await p.api.inject({ method: 'DELETE', url: url('data.bin'), headers: alice })).statusCode, 204);
  assert.equal((await p.api.inject({ method: 'GET', url: url('data.bin'), headers: alice })).statusCode, 404);
});

test('multipart uploads work too', async () => {
  const boundary = 'XyZ';
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello multipart\r\n--${boundary}--\r\n`;
  const res = await p.api.inject({ method: 'POST', url: url('note.txt'), headers: { ...alice, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
  assert.equal(res.statusCode, 201, res.body);
  const down = await p.api.inject({ method: 'GET', url: url('note.txt'), headers: alice });
  assert.equal(down.body, 'hello multipart');
  assert.equal(down.headers['content-type'], 'text/plain');
});

test('names are opaque keys: traversal, separators, NUL and control characters are refused', async () => {
  for (const name of ['..', '.', 'a/b', 'a\\b', 'nul\u0000x', 'bell\u0007', 'x'.repeat(300), 'evil\u202e']) {
    const res = await p.api.inject({ method: 'POST', url: `/api/function-objects/${fnId}/${encodeURIComponent(name)}`, headers: { ...alice, 'content-type': 'text/plain' }, payload: 'x' });
    assert.ok([400, 404].includes(res.statusCode), `${JSON.stringify(name)}: ${res.statusCode}`);
    assert.ok(errorCode(res) !== undefined);
  }
  const traversal = await p.api.inject({ method: 'GET', url: `/api/function-objects/${fnId}/..%2F..%2Fkeys%2Fjwt-secret`, headers: alice });
  assert.ok([400, 404].includes(traversal.statusCode));
  assert.ok(!traversal.body.includes('jwt'), traversal.body);
});

test("another user's function objects are 404 by every route", async () => {
  await p.api.inject({ method: 'POST', url: url('private.txt'), headers: { ...alice, 'content-type': 'text/plain' }, payload: 'alice only' });
  for (const req of [
    { method: 'GET', url: url('private.txt') },
    { method: 'GET', url: `/api/function-objects/${fnId}` },
    { method: 'DELETE', url: url('private.txt') },
    { method: 'PUT', url: url('private.txt') },
  ] as const) {
    const res = await p.api.inject({ ...req, headers: { ...bob, 'content-type': 'text/plain' }, payload: req.method === 'PUT' ? 'overwrite' : undefined });
    assert.equal(res.statusCode, 404, `${req.method} ${req.url}`);
  }
  assert.equal((await p.api.inject({ method: 'GET', url: url('private.txt'), headers: alice })).body, 'alice only');
});

test('oversize uploads are 413 and leave nothing', async () => {
  const res = await p.api.inject({ method: 'POST', url: url('huge.bin'), headers: { ...alice, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(3 * 1024 * 1024) });
  assert.equal(res.statusCode, 413);
  assert.equal((await p.api.inject({ method: 'GET', url: url('huge.bin'), headers: alice })).statusCode, 404);
  assert.deepEqual(readdirSync(path.join(p.dataDir, 'objects', fnId)).filter((f) => f.startsWith('.upload')), []);
});

test('a killed upload leaves no partial object', async () => {
  const socket = connect(p.port!, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(`POST ${url('partial.bin')} HTTP/1.1\r\nHost: x\r\nAuthorization: ${alice.authorization}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n`);
  socket.write(Buffer.alloc(300_000, 7));
  await new Promise((r) => setTimeout(r, 200));
  socket.destroy();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await p.api.inject({ method: 'GET', url: url('partial.bin'), headers: alice })).statusCode, 404);
  assert.deepEqual(readdirSync(path.join(p.dataDir, 'objects', fnId)).filter((f) => f.startsWith('.upload')), []);
});

test("deleting the function removes its objects' files", async () => {
  const other = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'temp-fn', runtime: 'node', code: 'export const handler = () => 1;' } })).json().id;
  await p.api.inject({ method: 'POST', url: url('x.txt', other), headers: { ...alice, 'content-type': 'text/plain' }, payload: 'x' });
  assert.ok(existsSync(path.join(p.dataDir, 'objects', other)));
  await p.api.inject({ method: 'DELETE', url: `/api/functions/${other}`, headers: alice });
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!existsSync(path.join(p.dataDir, 'objects', other)));
});
