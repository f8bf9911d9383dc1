import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { findExecutable } from '../../src/config/prerequisites.ts';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const run = promisify(execFile);

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

function multipart(fields: Record<string, string>, archive?: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----skyscale-upload';
  const parts: Buffer[] = Object.entries(fields).map(([k, v]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (archive !== undefined) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="fn.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`), archive, Buffer.from('\r\n'));
  return { payload: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const PY = 'def handler(event, context):\n    return {"hello": event.get("name", "world")}\n';
const missingTools = ['zip', 'curl', 'base64', 'bash'].filter((t) => findExecutable(t) === undefined);

describe("seed 002's control plane: POST /upload and POST /delete", () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  let aliceKey: string;
  let work: string;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' }, { listen: true });
    alice = (await p.user('alice')).auth;
    aliceKey = (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: alice, payload: {} })).json().key;
    work = mkdtempSync(path.join(tmpdir(), 'skyscale-upload-'));
  });
  after(async () => {
    await p.close();
    rmSync(work, { recursive: true, force: true });
  });

  test("the seed's upload.sh command line (plus an API key) deploys a folder; again, it makes the next version", { skip: missingTools.length > 0 && `SKIPPED: needs ${missingTools.join(', ')}: apt-get install -y zip curl coreutils bash` }, async () => {
    const folder = path.join(work, 'fn');
    mkdirSync(path.join(folder, 'lib'), { recursive: true });
    writeFileSync(path.join(folder, 'main.py'), 'from lib.greet import greet\n\ndef handler(event, context):\n    return greet(event)\n');
    writeFileSync(path.join(folder, 'lib', 'greet.py'), 'def greet(event):\n    return {"hello": event.get("name", "world")}\n');
    // scripts/upload.sh of the seed, verbatim but for the X-API-Key header and the port.
    const script = `pushd "$1" >/dev/null || exit\ncurl -s http://127.0.0.1:${p.port}/upload -H "X-API-Key: ${aliceKey}" --data "{\\"name\\":\\"$2\\", \\"zip\\": \\"$(zip -r - ./* | base64 | tr -d '\\n')\\"}"\npopd >/dev/null || exit\n`;
    const first = JSON.parse((await run('bash', ['-c', script, 'upload.sh', folder, 'test_function'])).stdout);
    assert.equal(first.name, 'test_function', JSON.stringify(first));
    assert.deepEqual([first.runtime, first.handler, first.codeSource, first.version], ['python', 'main.handler', 'bundle', 1]);
    const second = JSON.parse((await run('bash', ['-c', script, 'upload.sh', folder, 'test_function'])).stdout);
    assert.deepEqual([second.id, second.version], [first.id, 2]);
  });

  test('multipart: a name field, metadata, one archive file; a single top-level folder is unwrapped and the runtime inferred', async () => {
    const archive = await tarGz({ 'hello/index.js': 'export const handler = (e) => ({ hello: e.name ?? "world" });\n', 'hello/lib/x.js': 'export const x = 1;\n' });
    const { payload, headers } = multipart({ name: 'hello-upload', metadata: '{"memoryMb": 64}' }, archive);
    const res = await p.api.inject({ method: 'POST', url: '/upload', headers: { ...alice, ...headers }, payload });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual([res.json().runtime, res.json().handler, res.json().memoryMb], ['node', 'index.handler', 64]);
    const json = await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'py-upload', runtime: 'python', zip: (await tarGz({ 'main.py': PY })).toString('base64'), routes: [{ method: 'GET', path: '/py-upload' }] } });
    assert.equal(json.statusCode, 201, json.body);
    assert.deepEqual(json.json().routes, [{ method: 'GET', path: '/py-upload', auth: 'public' }]);
    const plainTar = gunzipSync(await tarGz({ 'index.php': '<?php function handler($e, $c) { return 1; }' }));
    const tarUpload = await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'php-upload', zip: plainTar.toString('base64') } });
    assert.ok(tarUpload.statusCode === 201 || errorCode(tarUpload) === 'RUNTIME_UNAVAILABLE', tarUpload.body);
    if (tarUpload.statusCode === 201) assert.equal(tarUpload.json().runtime, 'php', 'a plain .tar is read too; index.php makes it php');
  });

  test('refusals: no credentials, no archive, bad base64, no runtime to infer, code that does not parse', async () => {
    const zip = (await tarGz({ 'main.py': PY })).toString('base64');
    const anonymous = await p.api.inject({ method: 'POST', url: '/upload', payload: { name: 'x', zip } });
    assert.equal(anonymous.statusCode, 401);
    const noArchive = multipart({ name: 'x', runtime: 'python' });
    const withoutFile = await p.api.inject({ method: 'POST', url: '/upload', headers: { ...alice, ...noArchive.headers }, payload: noArchive.payload });
    assert.equal(errorCode(withoutFile), 'VALIDATION_FAILED', withoutFile.body);
    assert.match(withoutFile.json().error.message, /no archive/);
    const stray = multipart({ name: 'x', colour: 'blue' }, await tarGz({ 'main.py': PY }));
    assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/upload', headers: { ...alice, ...stray.headers }, payload: stray.payload })), 'VALIDATION_FAILED');
    assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'x', zip: 'not base64!' } })), 'INVALID_BUNDLE');
    assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'x', zip: Buffer.from('plain text').toString('base64') } })), 'INVALID_BUNDLE');
    const unknown = await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'x', zip: (await tarGz({ 'fn.py': PY })).toString('base64') } });
    assert.equal(errorCode(unknown), 'VALIDATION_FAILED');
    assert.match(unknown.json().error.message, /runtime is required/);
    const broken = await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'x', zip: (await tarGz({ 'index.js': 'export const handler = (' })).toString('base64') } });
    assert.equal(errorCode(broken), 'SYNTAX_ERROR');
    assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'x', zip, bogus: 1 } })), 'VALIDATION_FAILED');
  });

  test('POST /delete removes a function by name; unknown and foreign names are 404', async () => {
    const bob = (await p.user('bob')).auth;
    await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'doomed', zip: (await tarGz({ 'main.py': PY })).toString('base64') } });
    assert.equal((await p.api.inject({ method: 'POST', url: '/delete', headers: bob, payload: { name: 'doomed' } })).statusCode, 404);
    // As the seed's delete.sh sends it: curl --data, so a form content type holding JSON.
    const deleted = await p.api.inject({ method: 'POST', url: '/delete', headers: { ...alice, 'content-type': 'application/x-www-form-urlencoded' }, payload: '{"name": "doomed"}' });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal((await p.api.inject({ method: 'GET', url: '/api/functions/name/doomed', headers: alice })).statusCode, 404);
    assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/delete', headers: alice, payload: { name: 'doomed' } })), 'NOT_FOUND');
    assert.equal(errorCode(await p.api.inject({ method: 'POST', url: '/delete', headers: { ...alice, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=doomed' })), 'INVALID_JSON');
  });
});

describe('an uploaded folder runs', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1' });
  });
  after(() => p.close());

  test('upload, then invoke by name', async () => {
    const alice = (await p.user('alice')).auth;
    const res = await p.api.inject({ method: 'POST', url: '/upload', headers: alice, payload: { name: 'up', zip: (await tarGz({ 'main.py': PY })).toString('base64') } });
    assert.equal(res.statusCode, 201, res.body);
    const invoked = await p.api.inject({ method: 'POST', url: '/api/functions/name/up/invoke', headers: alice, payload: { name: 'Ada' } });
    assert.deepEqual(invoked.json().result, { hello: 'Ada' }, invoked.body);
  });
});
