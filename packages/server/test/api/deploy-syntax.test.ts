import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const TS_HELLO = 'interface Event { name?: string }\nexport const handler = (event: Event): { hello: string } => ({ hello: event.name ?? "world" });\n';

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

describe('code that does not parse is refused at deploy', () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' });
    alice = (await p.user('alice')).auth;
  });
  after(() => p.close());

  const deploy = (payload: object) => p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });

  test('JavaScript: 400 SYNTAX_ERROR with the compiler message, file, line and column; nothing is stored', async () => {
    const res = await deploy({ name: 'broken-js', runtime: 'node', code: 'export const handler = (event) => {\n  return { hello: event.name x };\n};\n' });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), 'SYNTAX_ERROR');
    assert.equal(res.json().error.message, 'index.js:2:30: Expected "}" but found "x"');
    assert.deepEqual(res.json().error.details, { file: 'index.js', line: 2, column: 30 });
    assert.equal((await p.api.inject({ method: 'GET', url: '/api/functions/name/broken-js', headers: alice })).statusCode, 404);
  });

  test('an update with code that does not parse keeps the current version', async () => {
    const fn = (await deploy({ name: 'kept', runtime: 'python', code: 'def handler(event, context):\n    return 1\n' })).json();
    const res = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}`, headers: alice, payload: { code: 'def handler(event, context)\n    return 2\n' } });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), 'SYNTAX_ERROR');
    assert.deepEqual(res.json().error.details, { file: 'main.py', line: 1, column: 28 });
    assert.equal((await p.api.inject({ method: 'GET', url: `/api/functions/${fn.id}`, headers: alice })).json().version, 1);
  });

  test('a bundle: any source file of the language is checked, node_modules are not', async () => {
    const payload = (files: Record<string, string>) => ({ name: 'bundled', runtime: 'node', files });
    const res = await deploy(payload({ 'index.js': 'export { handler } from "./lib/h.js";', 'lib/h.js': 'export const handler = () => {' }));
    assert.equal(errorCode(res), 'SYNTAX_ERROR');
    assert.deepEqual(res.json().error.details, { file: 'lib/h.js', line: 1, column: 31 });
    const deps = await deploy(payload({ 'index.js': 'export const handler = () => 1;', 'node_modules/odd/index.js': 'not javascript at all' }));
    assert.equal(deps.statusCode, 201, deps.body);

    const boundary = '----skyscale-syntax';
    const bundle = await tarGz({ 'main.py': 'def handler(event, context):\n    return 1\n', 'helpers/text.py': 'def f(:\n    pass\n' });
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"name":"py-bundle","runtime":"python"}\r\n--${boundary}\r\nContent-Disposition: form-data; name="bundle"; filename="code.tar.gz"\r\n\r\n`),
      bundle,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const py = await p.api.inject({ method: 'POST', url: '/api/functions', headers: { ...alice, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body });
    if (existsSync('/usr/bin/python3')) {
      assert.equal(errorCode(py), 'SYNTAX_ERROR', py.body);
      assert.deepEqual(py.json().error.details, { file: 'helpers/text.py', line: 1, column: 7 });
    }
  });

  test('PHP and command entries are checked too', async () => {
    const php = await deploy({ name: 'broken-php', runtime: 'php', code: '<?php function handler($e, $c { return 1; }' });
    if (php.statusCode !== 422) {
      assert.equal(errorCode(php), 'SYNTAX_ERROR', php.body);
      assert.deepEqual(php.json().error.details, { file: 'index.php', line: 1, column: null });
    }
    const cmd = await deploy({ name: 'broken-cmd', runtime: 'command', code: 'import json\nprint(json.dumps({"a": 1})\n', filename: 'run.py' });
    if (existsSync('/usr/bin/python3')) assert.equal(errorCode(cmd), 'SYNTAX_ERROR', cmd.body);
  });

  test('TypeScript as inline node code without a filename is stored and bundled as TypeScript', async () => {
    const res = await deploy({ name: 'inline-ts', runtime: 'node', code: TS_HELLO });
    assert.equal(res.statusCode, 201, res.body);
    const fn = res.json();
    assert.equal(fn.handler, 'index.handler');
    assert.deepEqual(readdirSync(path.join(p.dataDir, 'code', fn.codeHash)).sort(), ['index.mjs', 'index.ts']);
    const js = await deploy({ name: 'inline-js', runtime: 'node', code: 'export const handler = (e) => e;' });
    assert.deepEqual(readdirSync(path.join(p.dataDir, 'code', js.json().codeHash)), ['index.js'], 'JavaScript stays JavaScript');
    const named = await deploy({ name: 'named-js', runtime: 'node', code: TS_HELLO, filename: 'app.js' });
    assert.equal(errorCode(named), 'SYNTAX_ERROR');
    assert.match(named.json().error.message, /^app\.js:1:11: Expected ";" but found "Event" \(the file is TypeScript: name it \.ts\)$/);
    const badTs = await deploy({ name: 'bad-ts', runtime: 'node', code: 'export const handler = (e: ) => e;', filename: 'app.ts' });
    assert.equal(errorCode(badTs), 'SYNTAX_ERROR');
    assert.deepEqual(badTs.json().error.details, { file: 'app.ts', line: 1, column: 28 });
  });
});

describe('inline TypeScript runs', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1' });
  });
  after(() => p.close());

  test('a node function sent TypeScript in `code` answers its invocation', async () => {
    const alice = (await p.user('alice')).auth;
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'ts', runtime: 'node', code: TS_HELLO } });
    assert.equal(res.statusCode, 201, res.body);
    const run = await p.api.inject({ method: 'POST', url: '/api/functions/name/ts/invoke', headers: alice, payload: { name: 'Ada' } });
    assert.equal(run.json().status, 'succeeded', JSON.stringify(run.json().error));
    assert.deepEqual(run.json().result, { hello: 'Ada' });
  });
});
