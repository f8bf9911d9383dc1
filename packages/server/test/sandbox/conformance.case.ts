/**
 * The behaviour every SandboxDriver must have. A driver's test file calls
 * `runDriverConformance(name, makeDriver)`; the suite deploys real code into real instances.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SandboxStateError, type SandboxDriver } from '../../src/sandbox/driver.ts';
import { defineIsolationTests } from './conformance-isolation.case.ts';
import { defineLimitTests } from './conformance-limits.case.ts';
import { defineProcessRuntimeTests } from './conformance-process-runtimes.case.ts';
import { runtimeSkip } from '../helpers/sandbox.ts';
import { expectOk, handlerFor, Harness } from './harness.ts';

export function runDriverConformance(name: string, makeDriver: () => SandboxDriver | Promise<SandboxDriver>): void {
  describe(`SandboxDriver conformance: ${name}`, () => {
    let harness: Harness;
    const h = (): Harness => harness;
    before(async () => {
      harness = await Harness.create(await makeDriver());
    });
    after(() => harness.close());

    defineBasicTests(h);
    defineProcessRuntimeTests(h);
    defineIsolationTests(h);
    defineLimitTests(h);
  });
}

/** The runtimes that call a handler(event, context) in a long-lived interpreter, and their fixture's names. */
const MODULE_RUNTIMES = {
  node: { asyncHello: 'asyncHello', notSerialisable: 'bigint', count: 'count', error: 'TypeError', stack: /deepInUserCode .*\/code\/index\.js/, syntaxError: 'SyntaxError' },
  python: { asyncHello: 'async_hello', notSerialisable: 'not_serialisable', count: 'count', error: 'ValueError', stack: /\/code\/main\.py.*deep_in_user_code/s, syntaxError: 'SyntaxError' },
  // PHP has no async handlers, and count() is a built-in function.
  php: { asyncHello: null, notSerialisable: 'notSerialisable', count: 'counter', error: 'InvalidArgumentException', stack: /\/code\/index\.php.*deepInUserCode/s, syntaxError: 'ParseError' },
} as const;
const RUNTIMES = Object.keys(MODULE_RUNTIMES) as Array<keyof typeof MODULE_RUNTIMES>;

function defineBasicTests(h: () => Harness): void {
  for (const runtime of RUNTIMES) {
    describe(`${runtime} runtime`, { skip: runtimeSkip(runtime) }, () => {
      test('a stem cell is specialised with load, then answers invocations with result, logs and context', async () => {
        const instance = await h().loaded(runtime, 'hello');
        const outcome = await instance.invoke({ executionId: 'exec-hello-1', event: { name: 'world', n: [1, 2] }, deadlineMs: Date.now() + 5000 });
        const result = expectOk(outcome) as { echo: unknown; context: Record<string, unknown> };
        assert.deepEqual(result.echo, { name: 'world', n: [1, 2] });
        assert.equal(result.context.executionId, 'exec-hello-1');
        assert.equal(result.context.functionName, 'conformance');
        assert.equal(result.context.functionVersion, '7');
        assert.ok(Number(result.context.remaining) > 0 && Number(result.context.remaining) <= 5000);
        assert.match(outcome.logs, /hello/);
        assert.match(outcome.logs, /a line on stderr/);
        assert.match(outcome.logs, /via context\.log 42/);
        assert.equal(outcome.logsTruncated, false);
        assert.equal(instance.state, 'ready');
      });

      const names = MODULE_RUNTIMES[runtime];
      test('async handlers are awaited', { skip: names.asyncHello === null && 'no async handlers in this runtime' }, async () => {
        const instance = await h().loaded(runtime, names.asyncHello!);
        assert.deepEqual(expectOk(await h().invoke(instance, { a: 1 })), { async: true, event: { a: 1 } });
      });

      test('code is loaded once and the instance serves many invocations', async () => {
        const instance = await h().loaded(runtime, names.count);
        const pid = instance.pid;
        const results = [];
        for (let i = 0; i < 20; i++) results.push(expectOk(await h().invoke(instance)));
        assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i + 1));
        assert.equal(instance.pid, pid);
      });

      test('a thrown error is an error outcome with the user message and only user frames; the instance stays usable', async () => {
        const instance = await h().loaded(runtime, 'boom');
        const outcome = await h().invoke(instance);
        assert.equal(outcome.kind, 'error');
        if (outcome.kind !== 'error') return;
        assert.equal(outcome.name, names.error);
        assert.equal(outcome.message, 'boom-from-user');
        assert.match(outcome.stack, names.stack);
        assert.doesNotMatch(outcome.stack, /bootstrap|node:internal|skyscale/i);
        assert.equal(instance.state, 'ready');
        assert.equal((await h().invoke(instance)).kind, 'error');
      });

      test('logs are captured per execution', async () => {
        const instance = await h().loaded(runtime, 'tagged');
        const first = await h().invoke(instance, { tag: 'first' });
        const second = await h().invoke(instance, { tag: 'second' });
        assert.equal(first.logs, 'log-first\n');
        assert.equal(second.logs, 'log-second\n');
      });

      test('a result that is not JSON-serialisable is an error that says so', async () => {
        const instance = await h().loaded(runtime, names.notSerialisable);
        const outcome = await h().invoke(instance);
        assert.equal(outcome.kind, 'error');
        assert.match(outcome.kind === 'error' ? outcome.message : '', /not JSON-serialisable/);
      });

      test('a module that does not load is an error outcome and the instance is discarded', async () => {
        const instance = await h().stem(runtime);
        const outcome = await instance.load({ codeDir: h().brokenDirs[runtime], handler: handlerFor(runtime, 'handler'), env: {}, functionName: 'broken', functionVersion: '1', deadlineMs: Date.now() + 5000 });
        assert.equal(outcome.kind, 'error');
        assert.equal(outcome.kind === 'error' ? outcome.name : '', names.syntaxError);
        const exit = await instance.exited;
        assert.equal(instance.state, 'dead');
        assert.equal(exit.cause, 'killed');
      });

      test('a handler that does not exist is an error outcome naming it', async () => {
        const instance = await h().stem(runtime);
        const outcome = await instance.load({ codeDir: h().codeDirs[runtime], handler: handlerFor(runtime, 'missing'), env: {}, functionName: 'f', functionVersion: '1', deadlineMs: Date.now() + 5000 });
        assert.equal(outcome.kind, 'error');
        assert.match(outcome.kind === 'error' ? outcome.message : '', /missing/);
      });

      test('kill is idempotent, ends the instance and makes further calls a state error', async () => {
        const instance = await h().loaded(runtime, names.count);
        const [a, b] = await Promise.all([instance.kill('test'), instance.kill('again')]);
        assert.equal(a, b);
        assert.equal(a.cause, 'killed');
        assert.equal(a.reason, 'test');
        assert.equal(instance.state, 'dead');
        assert.throws(() => instance.invoke({ executionId: 'x', event: null, deadlineMs: Date.now() + 1000 }), SandboxStateError);
      });

      test('stats report memory and cpu of a live instance', async () => {
        const instance = await h().loaded(runtime, names.count);
        const stats = await instance.stats();
        assert.ok(stats.memoryBytes > 0, JSON.stringify(stats));
        assert.ok(stats.cpuMs >= 0);
        assert.ok(stats.processes >= 1);
        assert.equal(stats.memoryLimitBytes, 128 * 1024 * 1024);
        assert.equal(stats.cpuLimitCores, null);
        assert.ok(stats.ioBytes === null || stats.ioBytes >= 0, JSON.stringify(stats));
      });
    });
  }

  test('node: an error thrown later from a timer of the execution fails that execution', async () => {
    const instance = await h().loaded('node', 'strayThrow');
    const outcome = await h().invoke(instance);
    assert.equal(outcome.kind, 'error');
    assert.equal(outcome.kind === 'error' ? outcome.message : '', 'stray-timer-error');
  });
}
