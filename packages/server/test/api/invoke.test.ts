import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

describe('invocation through the API', { skip }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1', ASYNC_RETRY_BASE_MS: '50' });
    alice = (await p.user('alice')).auth;
    bob = (await p.user('bob')).auth;
  });
  after(() => p.close());

  const deploy = async (payload: object, auth = alice) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };
  const invoke = (url: string, payload: unknown, headers: Record<string, string> = alice) =>
    p.api.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  const waitFor = async (id: string, done: (e: { status: string }) => boolean, ms = 20_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const e = (await p.api.inject({ method: 'GET', url: `/api/executions/${id}`, headers: alice })).json();
      if (done(e) || Date.now() > end) return e;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('node: sync invoke returns the record; the second call is warm on the same instance', async () => {
    const fn = await deploy({ name: 'hello-node', runtime: 'node', code: 'export const handler = async (event, context) => ({ hello: event.name, fn: context.functionName, id: context.executionId });' });
    const first = await invoke(`/api/functions/${fn.id}/invoke`, { name: 'ada' });
    assert.equal(first.statusCode, 200, first.body);
    const e1 = first.json();
    assert.equal(e1.status, 'succeeded', JSON.stringify(e1.error));
    assert.deepEqual(e1.result, { hello: 'ada', fn: 'hello-node', id: e1.id });
    assert.equal(e1.coldStart, true);
    assert.equal(e1.version, 1);
    const second = (await invoke('/api/functions/name/hello-node/invoke', { name: 'bob' })).json();
    assert.equal(second.coldStart, false);
    assert.equal(second.instanceId, e1.instanceId);
    const raw = await invoke(`/api/functions/${fn.id}/invoke?result=true`, { name: 'raw' });
    assert.equal(raw.json().hello, 'raw');
  });

  test('python: handler(event, context) with a CommonJS-free module', async () => {
    await deploy({ name: 'hello-py', runtime: 'python', code: 'def handler(event, context):\n    print("log line")\n    return {"sum": event["a"] + event["b"], "fn": context.function_name}\n' });
    const e = (await invoke('/api/functions/name/hello-py/invoke', { a: 2, b: 3 })).json();
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.equal(e.result.sum, 5);
    const logs = (await p.api.inject({ method: 'GET', url: `/api/executions/${e.id}/logs`, headers: alice })).json();
    assert.match(logs.logs, /log line/);
  });

  test('the request body reaches the handler as sent: pretty-printed, a BOM, escaped and raw line separators', async () => {
    const event = { text: 'two\nlines\r\n and \u2028 separators "quoted"', nested: { list: [1, 2.5, -3e2, null, true] }, emoji: '🦊' };
    const body = `\uFEFF${JSON.stringify(event, null, 2).replaceAll('\n', '\r\n')}\n`;
    for (const [name, runtime, code] of [
      ['echo-node', 'node', 'export const handler = (e) => e;'],
      ['echo-py', 'python', 'def handler(event, context):\n    return event\n'],
    ] as const) {
      await deploy({ name, runtime, code });
      const res = await p.api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke`, headers: { ...alice, 'content-type': 'application/json; charset=utf-8' }, payload: body });
      assert.equal(res.statusCode, 200, res.body);
      const e = res.json();
      assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
      assert.deepEqual(e.result, event, runtime);
      assert.deepEqual(e.input, event, runtime);
      const stored = (await p.api.inject({ method: 'GET', url: `/api/executions/${e.id}`, headers: alice })).json();
      assert.deepEqual(stored.input, event, runtime);
      const raw = await p.api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke?result=true`, headers: { ...alice, 'content-type': 'application/json' }, payload: body });
      assert.deepEqual(raw.json(), event, runtime);
    }
    // Still Fastify's parser: a poisoned body is refused before anything runs.
    const proto = await p.api.inject({ method: 'POST', url: '/api/functions/name/echo-node/invoke', headers: { ...alice, 'content-type': 'application/json' }, payload: '{"__proto__":{"x":1}}' });
    assert.equal(proto.statusCode, 400, proto.body);
  });

  test('TypeScript is bundled with esbuild at deploy: enums, types and extensionless imports work', async () => {
    await deploy({
      name: 'typed', runtime: 'node',
      files: {
        'index.ts': "import { Color, paint } from './lib/colors';\ninterface Event { n: number }\nexport async function handler(event: Event): Promise<string> { return paint(Color.Red, event.n); }\n",
        'lib/colors.ts': 'export enum Color { Red = "red", Blue = "blue" }\nexport const paint = (c: Color, n: number): string => `${c}:${n * 2}`;\n',
      },
    });
    const e = (await invoke('/api/functions/name/typed/invoke', { n: 21 })).json();
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.equal(e.result, 'red:42');
    const broken = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'broken-ts', runtime: 'node', files: { 'index.ts': 'export const handler = (: number) => 1;' } } });
    assert.equal(broken.statusCode, 400);
    assert.equal(errorCode(broken), 'SYNTAX_ERROR');
    assert.match(broken.json().error.message, /^index\.ts:1:25: /);
    const unresolved = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'broken-ts', runtime: 'node', files: { 'index.ts': 'import { x } from "./missing";\nexport const handler = (): number => x;' } } });
    assert.equal(errorCode(unresolved), 'VALIDATION_FAILED');
    assert.match(unresolved.json().error.message, /TypeScript build failed: index.ts:1/);
  });

  test('a thrown error is failed with the message and a stack from user code only', async () => {
    await deploy({ name: 'thrower', runtime: 'node', code: 'export function handler() {\n  console.log("before");\n  throw new TypeError("boom");\n}\n' });
    const res = await invoke('/api/functions/name/thrower/invoke', {});
    const e = res.json();
    assert.equal(e.status, 'failed');
    assert.equal(e.error.reason, 'user_error');
    assert.match(e.error.message, /TypeError: boom/);
    assert.ok(!/bootstrap/.test(e.error.stack ?? ''), e.error.stack);
    const raw = await invoke('/api/functions/name/thrower/invoke?result=true', {});
    assert.equal(raw.statusCode, 502);
    assert.equal(errorCode(raw), 'EXECUTION_FAILED');
  });

  test('a timeout is timed_out and the next invocation still works', async () => {
    await deploy({ name: 'sleeper', runtime: 'node', timeoutMs: 300, code: 'export const handler = (e) => e.hang ? new Promise(() => {}) : "awake";' });
    const e = (await invoke('/api/functions/name/sleeper/invoke', { hang: true })).json();
    assert.equal(e.status, 'timed_out');
    assert.ok(e.durationMs < 3000, `durationMs ${e.durationMs}`);
    const ok = (await invoke('/api/functions/name/sleeper/invoke', {})).json();
    assert.equal(ok.status, 'succeeded');
    assert.equal(ok.result, 'awake');
  });

  test('a new version never runs on an old version\'s instance', async () => {
    const fn = await deploy({ name: 'versions', runtime: 'node', code: 'export const handler = () => 1;' });
    const v1 = (await invoke(`/api/functions/${fn.id}/invoke`, {})).json();
    assert.equal(v1.result, 1);
    await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}`, headers: alice, payload: { code: 'export const handler = () => 2;' } });
    const v2 = (await invoke(`/api/functions/${fn.id}/invoke`, {})).json();
    assert.equal(v2.result, 2);
    assert.equal(v2.version, 2);
    assert.notEqual(v2.instanceId, v1.instanceId);
  });

  test('async: 202, then the record reaches succeeded; Idempotency-Key returns the same execution', async () => {
    const fn = await deploy({ name: 'async-fn', runtime: 'node', code: 'export const handler = (e) => e.n * 2;' });
    const res = await invoke(`/api/functions/${fn.id}/invoke`, { n: 21 }, { ...alice, 'x-invocation-type': 'async', 'idempotency-key': 'k1' });
    assert.equal(res.statusCode, 202);
    assert.equal(res.json().status, 'queued');
    const again = await invoke(`/api/functions/${fn.id}/invoke?async=true`, { n: 21 }, { ...alice, 'idempotency-key': 'k1' });
    assert.equal(again.json().id, res.json().id);
    const conflict = await invoke(`/api/functions/${fn.id}/invoke?async=true`, { n: 22 }, { ...alice, 'idempotency-key': 'k1' });
    assert.equal(conflict.statusCode, 409);
    assert.equal(errorCode(conflict), 'IDEMPOTENCY_KEY_REUSED');
    const done = await waitFor(res.json().id, (e) => e.status === 'succeeded');
    assert.equal(done.status, 'succeeded');
    assert.equal((done as unknown as { result: number }).result, 42);

    const seed = await p.api.inject({ method: 'POST', url: '/api/executions', headers: alice, payload: { function_id: fn.id, input: { n: 5 } } });
    assert.equal(seed.statusCode, 202);
    const seedDone = await waitFor(seed.json().id, (e) => e.status === 'succeeded');
    assert.equal((seedDone as unknown as { result: number }).result, 10);
  });

  test('async failures are retried up to maxAttempts, then dead_lettered', async () => {
    const fn = await deploy({ name: 'always-fails', runtime: 'node', maxAttempts: 2, code: 'export const handler = () => { throw new Error("nope"); };' });
    const res = await invoke(`/api/functions/${fn.id}/invoke?async=true`, {});
    const done = await waitFor(res.json().id, (e) => e.status === 'dead_lettered');
    const e = done as unknown as { status: string; attempts: number; error: { reason: string; message: string } };
    assert.equal(e.status, 'dead_lettered');
    assert.equal(e.attempts, 2);
    assert.match(e.error.message, /nope/);
  });

  test('executions: list with status filter and cursor pages; per function; other users get 404', async () => {
    const fn = await deploy({ name: 'counted', runtime: 'node', code: 'export const handler = (e) => e;' });
    for (let i = 0; i < 5; i++) await invoke(`/api/functions/${fn.id}/invoke`, { i });
    const page1 = (await p.api.inject({ method: 'GET', url: `/api/executions/function/${fn.id}?limit=2`, headers: alice })).json();
    assert.equal(page1.items.length, 2);
    assert.ok(page1.nextCursor);
    const page2 = (await p.api.inject({ method: 'GET', url: `/api/executions/function/${fn.id}?limit=2&cursor=${page1.nextCursor}`, headers: alice })).json();
    const page3 = (await p.api.inject({ method: 'GET', url: `/api/executions/function/${fn.id}?limit=2&cursor=${page2.nextCursor}`, headers: alice })).json();
    const ids = [...page1.items, ...page2.items, ...page3.items].map((e: { id: string }) => e.id);
    assert.equal(new Set(ids).size, 5);
    assert.equal(page3.nextCursor, null);
    const failedOnly = (await p.api.inject({ method: 'GET', url: '/api/executions?status=failed', headers: alice })).json();
    assert.ok(failedOnly.items.every((e: { status: string }) => e.status === 'failed'));
    const theirs = await p.api.inject({ method: 'GET', url: `/api/executions/${ids[0]}`, headers: bob });
    assert.equal(theirs.statusCode, 404);
    assert.equal((await p.api.inject({ method: 'GET', url: `/api/executions/${ids[0]}/logs`, headers: bob })).statusCode, 404);
    assert.equal((await p.api.inject({ method: 'GET', url: `/api/executions/function/${fn.id}`, headers: bob })).statusCode, 404);
    assert.equal((await invoke(`/api/functions/${fn.id}/invoke`, {}, bob)).statusCode, 404);
    assert.deepEqual((await p.api.inject({ method: 'GET', url: '/api/executions', headers: bob })).json().items, []);
    assert.equal((await p.api.inject({ method: 'GET', url: '/api/executions?cursor=garbage', headers: alice })).statusCode, 400);
  });

  test('GET /api/vms lists your instances only; GET /api/v1/system reports the sandbox', async () => {
    const mine = (await p.api.inject({ method: 'GET', url: '/api/vms', headers: alice })).json().items;
    assert.ok(mine.length > 0);
    const one = mine.find((i: { functionName: string | null }) => i.functionName === 'hello-node');
    assert.ok(one && one.pid > 0 && one.invocations >= 2 && one.runtime === 'node', JSON.stringify(one));
    assert.equal((await p.api.inject({ method: 'GET', url: `/api/vms/${one.id}`, headers: alice })).json().id, one.id);
    const theirs = (await p.api.inject({ method: 'GET', url: '/api/vms', headers: bob })).json().items;
    assert.ok(theirs.every((i: { functionName: string | null }) => i.functionName !== 'hello-node'));
    assert.equal((await p.api.inject({ method: 'GET', url: `/api/vms/${one.id}`, headers: bob })).statusCode, 404);
    const system = (await p.api.inject({ method: 'GET', url: '/api/v1/system', headers: alice })).json();
    assert.equal(system.sandbox.isolation, 'bubblewrap');
  });

  test('deleting a function stops its warm instances', async () => {
    const fn = await deploy({ name: 'short-lived', runtime: 'python', code: 'def handler(e, c):\n    return 1\n' });
    const e = (await invoke(`/api/functions/${fn.id}/invoke`, {})).json();
    const before = (await p.api.inject({ method: 'GET', url: '/api/vms', headers: alice })).json().items;
    assert.ok(before.some((i: { id: string }) => i.id === e.instanceId));
    assert.equal((await p.api.inject({ method: 'DELETE', url: `/api/functions/${fn.id}`, headers: alice })).statusCode, 204);
    const after = (await p.api.inject({ method: 'GET', url: '/api/vms', headers: alice })).json().items;
    assert.ok(!after.some((i: { id: string }) => i.id === e.instanceId));
  });

  test('parallel invocations are all answered', async () => {
    const fn = await deploy({ name: 'parallel', runtime: 'node', maxInstances: 3, code: 'export const handler = async (e) => { await new Promise(r => setTimeout(r, 20)); return e.i; };' });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => invoke(`/api/functions/${fn.id}/invoke`, { i })));
    assert.deepEqual(results.map((r) => r.json().result), Array.from({ length: 40 }, (_, i) => i));
    const instances = new Set(results.map((r) => r.json().instanceId));
    assert.ok(instances.size <= 3, `at most maxInstances instances, saw ${instances.size}`);
  });
});
