import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { runtimeSkip, sandboxSkipReason } from '../helpers/sandbox.ts';
import { compileWat } from '../sandbox/fixtures-more.ts';

const examples = path.resolve(import.meta.dirname, '../../../../examples');
const example = (file: string): Buffer => readFileSync(path.join(examples, file));
const base64 = (bytes: Buffer) => ({ content: bytes.toString('base64'), encoding: 'base64' as const });

const PHP_FAILURES = String.raw`<?php
function handler($event, $context) {
    switch ($event) {
        case 'throw': throw new RuntimeException('boom-from-php');
        case 'notice': $list = []; echo "before\n"; $x = $list['missing']; return 'warned';
        case 'exit': exit(4);
        case 'loop': while (true) {}
    }
    return 'ok';
}
`;

describe('php and wasm functions through the API', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  let wasm: Record<string, Buffer>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1', ASYNC_RETRY_BASE_MS: '50' });
    alice = (await p.user('alice')).auth;
    wasm = await compileWat({
      'loop.wasm': '(module (memory (export "memory") 1) (func (export "_start") (loop $forever (br $forever))))',
      'trap.wasm': '(module (memory (export "memory") 1) (func (export "_start") unreachable))',
    });
  });
  after(() => p.close());

  const deploy = async (payload: object) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };
  const invoke = async (id: string, event: unknown) => {
    const res = await p.api.inject({ method: 'POST', url: `/api/functions/${id}/invoke`, headers: { ...alice, 'content-type': 'application/json' }, payload: JSON.stringify(event) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };
  const logsOf = async (executionId: string): Promise<string> => (await p.api.inject({ method: 'GET', url: `/api/executions/${executionId}/logs`, headers: alice })).json().logs;

  describe('php', { skip: runtimeSkip('php') }, () => {
    test('deploy → invoke → logs: echo and STDERR are logged, the warm instance keeps its globals', async () => {
      const fn = await deploy({ name: 'hello-php', runtime: 'php', env: { GREETING: 'hi' }, files: { 'index.php': example('hello-php/index.php').toString('utf8') } });
      assert.equal(fn.handler, 'index.handler');
      const first = await invoke(fn.id, { name: 'Ada' });
      assert.equal(first.status, 'succeeded', JSON.stringify(first.error));
      assert.deepEqual(first.result, { message: 'Hello Ada', greeting_env: 'hi', execution: first.id, served: 1 });
      assert.equal(first.coldStart, true);
      assert.equal(await logsOf(first.id), 'greeting Ada\nserved 1 so far\n');
      const second = await invoke(fn.id, { name: 'Bob' });
      assert.equal(second.coldStart, false);
      assert.equal(second.instanceId, first.instanceId);
      assert.equal(second.result.served, 2);
      assert.equal(await logsOf(second.id), 'greeting Bob\nserved 2 so far\n');
    });

    test('a PHP function reads its object through API_BASE_URL while it runs', async () => {
      const fn = await deploy({ name: 'php-reader', runtime: 'php', code: `<?php
function handler($event, $context) {
    return ['body' => file_get_contents(getenv('API_BASE_URL') . '/' . $event['ref']), 'base' => getenv('API_BASE_URL')];
}` });
      const put = await p.api.inject({ method: 'PUT', url: `/api/function-objects/${fn.id}/note.txt`, headers: { ...alice, 'content-type': 'text/plain' }, payload: 'from an object' });
      assert.equal(put.statusCode, 200, put.body);
      for (let i = 0; i < 2; i++) {
        const execution = await invoke(fn.id, { ref: `${fn.id}/note.txt` });
        assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
        assert.equal(execution.result.body, 'from an object');
        assert.match(execution.result.base, /^http:\/\/127\.0\.0\.1:\d+$/);
      }
    });

    test('async invocation runs to succeeded', async () => {
      const fn = await deploy({ name: 'php-async', runtime: 'php', code: '<?php function handler($e, $c) { return ["twice" => $e["n"] * 2]; }' });
      const queued = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.id}/invoke?async=true`, headers: alice, payload: { n: 21 } });
      assert.equal(queued.statusCode, 202, queued.body);
      let execution;
      for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        execution = (await p.api.inject({ method: 'GET', url: `/api/executions/${queued.json().id}`, headers: alice })).json();
        if (!['queued', 'running'].includes(execution.status)) break;
      }
      assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
      assert.deepEqual(execution.result, { twice: 42 });
    });

    test('an exception, a warning, exit() and a parse error: each says what happened; the instance recovers', async () => {
      const fn = await deploy({ name: 'php-failures', runtime: 'php', code: PHP_FAILURES });
      const thrown = await invoke(fn.id, 'throw');
      assert.equal(thrown.status, 'failed');
      assert.equal(thrown.error.message, 'RuntimeException: boom-from-php');
      assert.match(thrown.error.stack, /\/code\/index\.php:4/);
      const warned = await invoke(fn.id, 'notice');
      assert.equal(warned.status, 'succeeded');
      assert.match(await logsOf(warned.id), /^before\nPHP Warning: {2}Undefined array key "missing" in \/code\/index\.php on line 5\n$/);
      const exited = await invoke(fn.id, 'exit');
      assert.equal(exited.status, 'failed');
      assert.match(exited.error.message, /^ExitError: The function ended the PHP process/);
      const after = await invoke(fn.id, 'fine');
      assert.equal(after.status, 'succeeded', JSON.stringify([after, exited]));
      assert.notEqual(after.instanceId, exited.instanceId, 'exit() ends the instance; the next invocation gets a new one');

      // Code that does not parse is refused at deploy (SYNTAX_ERROR); a ParseError at run time still fails the execution.
      const evaluated = await deploy({ name: 'php-eval', runtime: 'php', code: '<?php function handler($e, $c) { return eval("return 1 +;"); }' });
      const parse = await invoke(evaluated.id, {});
      assert.equal(parse.status, 'failed');
      assert.match(parse.error.message, /^ParseError: syntax error/);
    });

    test('a busy loop is timed_out at the function timeout, and the function still serves afterwards', async () => {
      const fn = await deploy({ name: 'php-loop', runtime: 'php', timeoutMs: 600, code: PHP_FAILURES });
      const looped = await invoke(fn.id, 'loop');
      assert.equal(looped.status, 'timed_out');
      assert.equal(looped.error.reason, 'timeout');
      assert.equal((await invoke(fn.id, 'fine')).result, 'ok');
    });
  });

  describe('wasm', () => {
    test('deploy → invoke → logs: stdin in, stdout out, stderr to the logs; warm afterwards', async () => {
      const fn = await deploy({ name: 'hello-wasm', runtime: 'wasm', files: { 'main.wasm': base64(example('hello-wasm/main.wasm')) } });
      assert.equal(fn.handler, 'main.wasm');
      const first = await invoke(fn.id, { name: 'Ada' });
      assert.equal(first.status, 'succeeded', JSON.stringify(first.error));
      assert.deepEqual(first.result, { message: 'Hello Ada' });
      assert.equal(await logsOf(first.id), 'hello-wasm: greeting\n');
      const second = await invoke(fn.id, { name: 'Bob' });
      assert.equal(second.coldStart, false);
      assert.equal(second.instanceId, first.instanceId);
    });

    test('{"error": ...} on stdout is a failed execution with exactly that message; a trap says so', async () => {
      const fn = await deploy({ name: 'hello-wasm-errors', runtime: 'wasm', files: { 'main.wasm': base64(example('hello-wasm/main.wasm')) } });
      const reported = await invoke(fn.id, { nobody: true });
      assert.equal(reported.status, 'failed');
      assert.deepEqual(reported.error, { reason: 'user_error', fault: 'user', message: 'the input needs a "name" string', stack: '' });
      const trap = await deploy({ name: 'trap-wasm', runtime: 'wasm', handler: 'trap.wasm', files: { 'trap.wasm': base64(wasm['trap.wasm']!) } });
      const trapped = await invoke(trap.id, {});
      assert.equal(trapped.status, 'failed');
      assert.match(trapped.error.message, /^WasmTrap: the module trapped: unreachable/);
    });

    test('a module with an exported handler keeps its memory between invocations of a warm instance', async () => {
      const fn = await deploy({ name: 'counter-wasm', runtime: 'wasm', files: { 'main.wasm': base64(example('counter-wasm/main.wasm')) } });
      const counts = [];
      for (let i = 0; i < 3; i++) {
        const execution = await invoke(fn.id, { i });
        assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
        counts.push(execution.result.count);
        if (i === 0) assert.equal(await logsOf(execution.id), 'counter-wasm: one more\n');
      }
      assert.deepEqual(counts, [1, 2, 3]);
    });

    test('an endless loop is timed_out at the function timeout', async () => {
      const fn = await deploy({ name: 'loop-wasm', runtime: 'wasm', handler: 'loop.wasm', timeoutMs: 600, files: { 'loop.wasm': base64(wasm['loop.wasm']!) } });
      const execution = await invoke(fn.id, {});
      assert.equal(execution.status, 'timed_out');
    });

    test('a file that is not a WebAssembly module, or a handler that is not a .wasm path, is refused at deploy', async () => {
      const text = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'not-wasm', runtime: 'wasm', files: { 'main.wasm': 'just text' } } });
      assert.equal(text.statusCode, 400);
      assert.equal(errorCode(text), 'VALIDATION_FAILED');
      assert.match(text.json().error.message, /"main.wasm" is not a WebAssembly binary/);
      const corrupt = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'corrupt-wasm', runtime: 'wasm', files: { 'main.wasm': base64(Buffer.from('\0asm\x01\0\0\0garbage')) } } });
      assert.equal(corrupt.statusCode, 400);
      assert.match(corrupt.json().error.message, /is not a valid WebAssembly module/);
      const handler = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'bad-handler', runtime: 'wasm', handler: 'index.handler', files: { 'main.wasm': base64(example('hello-wasm/main.wasm')) } } });
      assert.equal(handler.statusCode, 400);
      assert.match(handler.json().error.message, /a wasm handler is the path of the module file/);
    });
  });
});

describe('a server without php-cli', { skip: sandboxSkipReason() }, () => {
  test('lists no php runtime and refuses PHP functions at deploy with 422 RUNTIME_UNAVAILABLE; other runtimes deploy', async () => {
    const p = await testPlatform({ WARM_POOL_SIZE: '0', PHP_PATH: '/nonexistent/php' });
    try {
      const { auth } = await p.user('carol');
      const system = (await p.api.inject({ method: 'GET', url: '/api/v1/system', headers: auth })).json();
      assert.equal(system.sandbox.runtimes.php, undefined);
      assert.ok(system.sandbox.runtimes.wasm && system.sandbox.runtimes.command);
      assert.ok(system.sandbox.warnings.some((w: string) => /php runtime unavailable: no working \/nonexistent\/php \(install php-cli\)/.test(w)));
      const php = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'no-php', runtime: 'php', code: '<?php function handler($e, $c) { return 1; }' } });
      assert.equal(php.statusCode, 422);
      assert.equal(errorCode(php), 'RUNTIME_UNAVAILABLE');
      assert.match(php.json().error.message, /^The php runtime is not available on this server: php runtime unavailable/);
      const node = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'node-ok', runtime: 'node', code: 'export const handler = () => 1;' } });
      assert.equal(node.statusCode, 201, node.body);
      const switched = await p.api.inject({ method: 'PUT', url: `/api/functions/${node.json().id}`, headers: auth, payload: { runtime: 'php', code: '<?php function handler($e, $c) { return 1; }' } });
      assert.equal(switched.statusCode, 422);
    } finally {
      await p.close();
    }
  });
});
