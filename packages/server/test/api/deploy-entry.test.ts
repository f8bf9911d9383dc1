import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

/** One named file is the entry: the handler follows its name unless one is given. */
describe('one-file deploys: the handler follows the filename', () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' });
    alice = (await p.user('alice')).auth;
  });
  after(() => p.close());

  const deploy = (payload: object) => p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });
  const update = (id: string, payload: object) => p.api.inject({ method: 'PUT', url: `/api/functions/${id}`, headers: alice, payload });

  test('node, python and php: <module>.handler from the filename; wasm and command keep the file itself', async () => {
    const cases = [
      { runtime: 'node', filename: 'chat.js', code: 'export async function stream() {}', handler: 'chat.handler' },
      { runtime: 'node', filename: 'src/api.mjs', code: 'export const handler = () => 1;', handler: 'src/api.handler' },
      { runtime: 'python', filename: 'hello.py', code: 'def handler(event, context):\n    return 1\n', handler: 'hello.handler' },
      { runtime: 'php', filename: 'hello.php', code: '<?php function handler($e, $c) { return 1; }', handler: 'hello.handler' },
      { runtime: 'command', filename: 'count.sh', code: '#!/bin/sh\necho 1\n', handler: 'count.sh' },
    ];
    for (const [i, c] of cases.entries()) {
      const res = await deploy({ name: `one-${i}`, runtime: c.runtime, code: c.code, filename: c.filename });
      if (res.statusCode === 422) continue; // php-cli missing: RUNTIME_UNAVAILABLE, covered elsewhere
      assert.equal(res.statusCode, 201, `${c.filename}: ${res.body}`);
      assert.equal(res.json().handler, c.handler, c.filename);
    }
  });

  test('a given handler wins; a file of another language falls back to the default and is refused with the candidates', async () => {
    const given = await deploy({ name: 'given', runtime: 'node', code: 'export const main = () => 1;', filename: 'app.js', handler: 'app.main' });
    assert.equal(given.json().handler, 'app.main');
    const foreign = await deploy({ name: 'foreign', runtime: 'python', code: 'x', filename: 'notes.txt' });
    assert.equal(foreign.statusCode, 400);
    assert.equal(errorCode(foreign), 'VALIDATION_FAILED');
    assert.match(foreign.json().error.message, /main\.handler.*main\.py/);
  });

  test('an update keeps a handler that still points at the file, and its export name when the file changes', async () => {
    const fn = (await deploy({ name: 'moving', runtime: 'node', code: 'export const main = () => 1;', filename: 'app.js', handler: 'app.main' })).json();
    const same = await update(fn.id, { code: 'export const main = () => 2;', filename: 'app.js' });
    assert.equal(same.json().handler, 'app.main');
    const renamed = await update(fn.id, { code: 'export const main = () => 3;', filename: 'lib/next.mjs' });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(renamed.json().handler, 'lib/next.main');
    const noCode = await update(fn.id, { memoryMb: 256 });
    assert.equal(noCode.json().handler, 'lib/next.main');
    const cmd = (await deploy({ name: 'moving-cmd', runtime: 'command', code: '#!/bin/sh\necho 1\n', filename: 'a.sh' })).json();
    assert.equal((await update(cmd.id, { code: '#!/bin/sh\necho 2\n', filename: 'b.sh' })).json().handler, 'b.sh');
  });
});

describe('one-file deploys run as named', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1' });
    alice = (await p.user('alice')).auth;
  });
  after(() => p.close());

  test('hello.py and greet.js deployed by filename alone answer their invocations', async () => {
    for (const [name, runtime, filename, code] of [
      ['hello-py', 'python', 'hello.py', 'def handler(event, context):\n    return {"hello": event.get("name", "world")}\n'],
      ['greet-js', 'node', 'greet.js', 'export const handler = (event) => ({ hello: event.name ?? "world" });\n'],
    ]) {
      const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name, runtime, filename, code } });
      assert.equal(res.statusCode, 201, res.body);
      const run = await p.api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke`, headers: alice, payload: { name: 'Ada' } });
      assert.equal(run.json().status, 'succeeded', JSON.stringify(run.json().error));
      assert.deepEqual(run.json().result, { hello: 'Ada' });
    }
  });
});
