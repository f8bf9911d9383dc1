import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pack } from 'tar-stream';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';

let p: TestPlatform;
let alice: Record<string, string>;
let bob: Record<string, string>;
before(async () => {
  p = await testPlatform();
  alice = (await p.user('alice')).auth;
  bob = (await p.user('bob')).auth;
});
after(() => p.close());

const hello = 'export const handler = (event) => ({ hello: event.name ?? "world" });\n';

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

function multipart(metadata: object, bundle: Buffer, filename = 'code.tar.gz'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----skyscale' + Math.random().toString(16).slice(2);
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify(metadata)}\r\n--${boundary}\r\nContent-Disposition: form-data; name="bundle"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const payload = Buffer.concat([Buffer.from(head), bundle, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

test('deploy inline code, read it back by id and by name, list it', async () => {
  const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'hello', runtime: 'node', code: hello, env: { GREETING: 'hi' } } });
  assert.equal(res.statusCode, 201, res.body);
  const fn = res.json();
  assert.equal(fn.name, 'hello');
  assert.equal(fn.runtime, 'node');
  assert.equal(fn.handler, 'index.handler');
  assert.equal(fn.version, 1);
  assert.equal(fn.memoryMb, 128);
  assert.deepEqual(fn.env, { GREETING: 'hi' });
  assert.match(fn.codeHash, /^[0-9a-f]{64}$/);
  assert.equal(readFileSync(path.join(p.dataDir, 'code', fn.codeHash, 'index.js'), 'utf8'), hello);

  const byId = await p.api.inject({ method: 'GET', url: `/api/functions/${fn.id}`, headers: alice });
  assert.deepEqual(byId.json(), fn);
  const byName = await p.api.inject({ method: 'GET', url: '/api/v1/functions/name/hello', headers: alice });
  assert.deepEqual(byName.json(), fn);
  const list = await p.api.inject({ method: 'GET', url: '/api/functions', headers: alice });
  assert.deepEqual(list.json().items.map((f: { name: string }) => f.name), ['hello']);
  const dup = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'hello', runtime: 'node', code: hello } });
  assert.equal(dup.statusCode, 409);
  assert.equal(errorCode(dup), 'FUNCTION_NAME_TAKEN');
});

test('PUT makes a new immutable version; old versions stay listable', async () => {
  const created = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'versioned', runtime: 'python', code: 'def handler(event, context):\n    return 1\n' } })).json();
  assert.equal(created.handler, 'main.handler');
  const v2 = await p.api.inject({ method: 'PUT', url: `/api/functions/${created.id}`, headers: alice, payload: { memoryMb: 256 } });
  assert.equal(v2.statusCode, 200, v2.body);
  assert.equal(v2.json().version, 2);
  assert.equal(v2.json().memoryMb, 256);
  assert.equal(v2.json().codeHash, created.codeHash, 'code is kept when not given');
  const v3 = await p.api.inject({ method: 'PUT', url: `/api/functions/${created.id}`, headers: alice, payload: { code: 'def handler(event, context):\n    return 2\n' } });
  assert.equal(v3.json().version, 3);
  assert.notEqual(v3.json().codeHash, created.codeHash);
  const versions = (await p.api.inject({ method: 'GET', url: `/api/functions/${created.id}/versions`, headers: alice })).json().items;
  assert.deepEqual(versions.map((v: { version: number }) => v.version), [3, 2, 1]);
  assert.equal(versions[2].memoryMb, 128);
  assert.equal(versions[2].codeHash, created.codeHash);
});

test('deploy a file map and a tar.gz bundle (multipart)', async () => {
  const files = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'mapped', runtime: 'node', handler: 'src/app.main', files: { 'src/app.mjs': 'export const main = () => 1;', 'data/logo.bin': { content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' } } } });
  assert.equal(files.statusCode, 201, files.body);
  const dir = path.join(p.dataDir, 'code', files.json().codeHash);
  assert.deepEqual([...readFileSync(path.join(dir, 'data/logo.bin'))], [0, 1, 2, 255]);

  const { payload, headers } = multipart({ name: 'bundled', runtime: 'node' }, await tarGz({ 'index.js': hello, 'lib/util.js': 'module.exports = 1;' }));
  const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: { ...alice, ...headers }, payload });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.json().codeSource, 'bundle');
  assert.ok(existsSync(path.join(p.dataDir, 'code', res.json().codeHash, 'lib/util.js')));

  const update = multipart({ timeoutMs: 5000 }, await tarGz({ 'index.js': 'exports.handler = () => 2;' }));
  const updated = await p.api.inject({ method: 'PUT', url: `/api/functions/${res.json().id}`, headers: { ...alice, ...update.headers }, payload: update.payload });
  assert.equal(updated.statusCode, 200, updated.body);
  assert.equal(updated.json().version, 2);
  assert.equal(updated.json().timeoutMs, 5000);
});

test('bad bundles and bad deploys answer 4xx with a code', async () => {
  const evil = multipart({ name: 'evil', runtime: 'node' }, await tarGz({ '../evil.js': 'x', 'index.js': hello }));
  const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: { ...alice, ...evil.headers }, payload: evil.payload });
  assert.equal(res.statusCode, 400);
  assert.equal(errorCode(res), 'INVALID_BUNDLE');
  const notArchive = multipart({ name: 'junk', runtime: 'node' }, Buffer.from('plain text, not an archive'));
  assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/api/functions', headers: { ...alice, ...notArchive.headers }, payload: notArchive.payload })), 'INVALID_BUNDLE');
  const badMeta = multipart({ name: 'x', runtime: 'node', admin: true }, await tarGz({ 'index.js': hello }));
  assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/api/functions', headers: { ...alice, ...badMeta.headers }, payload: badMeta.payload })), 'VALIDATION_FAILED');

  const cases: Array<[object, string]> = [
    [{ runtime: 'node', code: hello }, 'VALIDATION_FAILED'],
    [{ name: 'nocode', runtime: 'node' }, 'VALIDATION_FAILED'],
    [{ name: 'badrt', runtime: 'cobol', code: hello }, 'VALIDATION_FAILED'],
    [{ name: 'both', runtime: 'node', code: hello, files: { 'index.js': hello } }, 'VALIDATION_FAILED'],
    [{ name: 'noentry', runtime: 'node', handler: 'main.run', code: hello, filename: 'other.js' }, 'VALIDATION_FAILED'],
    [{ name: 'mem', runtime: 'node', code: hello, memoryMb: 1 }, 'VALIDATION_FAILED'],
    [{ name: 'mem2', runtime: 'node', code: hello, memoryMb: '128' }, 'VALIDATION_FAILED'],
    [{ name: 'env', runtime: 'node', code: hello, env: { 'BAD-NAME': 'x' } }, 'VALIDATION_FAILED'],
    [{ name: 'trav', runtime: 'node', handler: '../../etc/passwd', code: hello }, 'VALIDATION_FAILED'],
    [{ name: 'abs', runtime: 'node', files: { '/etc/cron.d/x': hello } }, 'INVALID_BUNDLE'],
    [{ name: 'unknown', runtime: 'node', code: hello, owner: 'someone' }, 'VALIDATION_FAILED'],
  ];
  for (const [payload, code] of cases) {
    const r = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });
    assert.equal(errorCode(r), code, `${JSON.stringify(payload)} → ${r.statusCode} ${r.body}`);
    assert.ok(r.statusCode >= 400 && r.statusCode < 500);
  }
});

test('names: separators, traversal, SQL metacharacters, control and bidi characters are refused; NFC is applied', async () => {
  for (const name of ['a/b', 'a\\b', '..', '../x', "x'; DROP TABLE functions;--", 'a b', 'bad\u0000', 'tab\tname', 'evil\u202egnp', '-leading', 'a'.repeat(129)]) {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name, runtime: 'node', code: hello } });
    assert.equal(res.statusCode, 400, JSON.stringify(name));
    assert.equal(errorCode(res), 'INVALID_NAME', JSON.stringify(name));
  }
  const decomposed = 'cafe\u0301';
  const created = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: decomposed, runtime: 'node', code: hello } });
  assert.equal(created.statusCode, 201);
  assert.equal(created.json().name, 'caf\u00e9');
  const byName = await p.api.inject({ method: 'GET', url: `/api/functions/name/${encodeURIComponent(decomposed)}`, headers: alice });
  assert.equal(byName.statusCode, 200);
  const tables = await p.api.inject({ method: 'GET', url: '/api/functions', headers: alice });
  assert.equal(tables.statusCode, 200, 'the functions table is still there');
});

test("another user's function answers 404 for every operation, by id and by name", async () => {
  const fn = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'private', runtime: 'node', code: hello } })).json();
  const attempts = [
    { method: 'GET', url: `/api/functions/${fn.id}` },
    { method: 'GET', url: `/api/v1/functions/${fn.id}` },
    { method: 'GET', url: '/api/functions/name/private' },
    { method: 'GET', url: `/api/functions/${fn.id}/versions` },
    { method: 'PUT', url: `/api/functions/${fn.id}`, payload: { memoryMb: 512 } },
    { method: 'DELETE', url: `/api/functions/${fn.id}` },
  ] as const;
  for (const a of attempts) {
    const res = await p.api.inject({ ...a, headers: bob });
    assert.equal(res.statusCode, 404, `${a.method} ${a.url}`);
    assert.equal(errorCode(res), 'NOT_FOUND');
  }
  assert.deepEqual((await p.api.inject({ method: 'GET', url: '/api/functions', headers: bob })).json().items, []);
  const stillThere = await p.api.inject({ method: 'GET', url: `/api/functions/${fn.id}`, headers: alice });
  assert.equal(stillThere.json().memoryMb, 128);
  const same = await p.api.inject({ method: 'POST', url: '/api/functions', headers: bob, payload: { name: 'private', runtime: 'node', code: hello } });
  assert.equal(same.statusCode, 201, 'names are unique per owner, not globally');
});

test('delete removes the function; bad ids are 404, not 500', async () => {
  const fn = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'doomed', runtime: 'node', code: hello } })).json();
  assert.equal((await p.api.inject({ method: 'DELETE', url: `/api/functions/${fn.id}`, headers: alice })).statusCode, 204);
  assert.equal((await p.api.inject({ method: 'GET', url: `/api/functions/${fn.id}`, headers: alice })).statusCode, 404);
  for (const id of ['not-a-uuid', "1' OR '1'='1", '%2e%2e%2f%2e%2e', 'x'.repeat(200)]) {
    const res = await p.api.inject({ method: 'GET', url: `/api/functions/${id}`, headers: alice });
    assert.ok(res.statusCode === 404 || res.statusCode === 400, `${id}: ${res.statusCode}`);
    assert.ok(errorCode(res) !== undefined);
  }
});
