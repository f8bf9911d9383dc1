import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MIN_MEMORY_MB } from '../../src/core/memory-floors.ts';
import { errorCode, testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { runtimeSkip, sandboxSkipReason } from '../helpers/sandbox.ts';

const wasm = readFileSync(path.resolve(import.meta.dirname, '../../../../examples/hello-wasm/main.wasm')).toString('base64');
const code = {
  node: { code: 'export const handler = (e) => ({ size: JSON.stringify(e).length });' },
  python: { code: 'import json\ndef handler(e, c):\n    return {"size": len(json.dumps(e))}\n' },
  php: { code: '<?php function handler($e, $c) { return ["size" => strlen(json_encode($e))]; }' },
  wasm: { files: { 'main.wasm': { content: wasm, encoding: 'base64' } }, handler: 'main.wasm' },
  command: { code: '#!/bin/sh\necho \'{"size": 0}\'\n', handler: 'main' },
} as const;

// A stem cell (WARM_POOL_SIZE 1) narrowed to the floor for python, php and command; node and wasm at
// their floor start cold (a node stem cell serves only its own size).
describe('memoryMb: deploy and the sandbox agree on each runtime\'s floor', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  let auth: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1' });
    auth = (await p.user('mem')).auth;
  });
  after(() => p.close());

  for (const runtime of ['node', 'python', 'php', 'wasm', 'command'] as const) {
    test(`${runtime}: below ${MIN_MEMORY_MB[runtime]} MB is refused at deploy, at it every invocation runs`, { skip: runtimeSkip(runtime) }, async () => {
      const floor = MIN_MEMORY_MB[runtime];
      const below = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: `${runtime}-below`, runtime, memoryMb: floor - 1, ...code[runtime] } });
      assert.equal(below.statusCode, 400, below.body);
      assert.equal(errorCode(below), 'VALIDATION_FAILED');
      // The schema's own minimum (the lowest floor) words it its way; both name the floor.
      assert.match(below.json().error.message, new RegExp(`memoryMb must be at least ${floor} for ${runtime} functions|memoryMb must be >= ${floor}$`));

      const at = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: `${runtime}-floor`, runtime, memoryMb: floor, ...code[runtime] } });
      assert.equal(at.statusCode, 201, at.body);
      // An event of 1 MiB (argv[1] of a command function holds less: it gets a small one); hello-wasm greets `name`.
      const event = runtime === 'command' ? { name: 'x' } : { name: 'x', blob: 'x'.repeat(1 << 20) };
      for (let i = 0; i < 3; i++) {
        const run = await p.api.inject({ method: 'POST', url: `/api/functions/${at.json().id}/invoke`, headers: auth, payload: event });
        assert.equal(run.statusCode, 200, run.body);
        assert.equal(run.json().status, 'succeeded', run.body.slice(0, 500));
      }
    });
  }

  test('an update that moves a function to a runtime with a higher floor must raise memoryMb too', async () => {
    const fn = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'mover', runtime: 'python', memoryMb: MIN_MEMORY_MB.python, ...code.python } });
    assert.equal(fn.statusCode, 201, fn.body);
    const moved = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.json().id}`, headers: auth, payload: { runtime: 'node', ...code.node } });
    assert.equal(moved.statusCode, 400, moved.body);
    assert.match(moved.json().error.message, new RegExp(`at least ${MIN_MEMORY_MB.node} for node`));
  });
});
