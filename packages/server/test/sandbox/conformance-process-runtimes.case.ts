/** The command and wasm runtimes: input JSON in, result JSON on stdout, stderr to the logs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InvokeOutcome, SandboxInstance, SandboxRuntime } from '../../src/sandbox/driver.ts';
import { runtimeSkip } from '../helpers/sandbox.ts';
import { expectOk, type Harness } from './harness.ts';

export function defineProcessRuntimeTests(h: () => Harness): void {
  /** Loads an entry file into a stem cell of `stem` (a python stem for command, a node stem for wasm). */
  async function loadedFrom(stem: SandboxRuntime, runtime: SandboxRuntime, entry: string, env: Record<string, string> = {}): Promise<SandboxInstance> {
    const instance = await h().stem(stem);
    const outcome = await instance.load({ runtime, codeDir: h().codeDirs[runtime], handler: entry, env, functionName: 'conformance', functionVersion: '1', deadlineMs: Date.now() + 10_000 });
    assert.equal(outcome.kind, 'loaded', JSON.stringify(outcome));
    assert.equal(instance.runtime, runtime);
    return instance;
  }

  async function loadError(runtime: SandboxRuntime, entry: string, codeDir = h().codeDirs[runtime]): Promise<string> {
    const instance = await h().stem(runtime);
    const outcome = await instance.load({ runtime, codeDir, handler: entry, env: {}, functionName: 'broken', functionVersion: '1', deadlineMs: Date.now() + 10_000 });
    assert.equal(outcome.kind, 'error', JSON.stringify(outcome));
    assert.equal((await instance.exited).cause, 'killed');
    return outcome.kind === 'error' ? `${outcome.name}: ${outcome.message}` : '';
  }

  function failure(outcome: InvokeOutcome): string {
    assert.equal(outcome.kind, 'error', JSON.stringify(outcome).slice(0, 1000));
    return outcome.kind === 'error' ? `${outcome.name}: ${outcome.message}` : '';
  }

  describe('command runtime', () => {
    test('a Python script without a shebang gets the input as argv[1] and on stdin, cwd /code and the env; stdout is the result', async () => {
      const instance = await loadedFrom('python', 'command', 'hello.py', { GREETING: 'hi' });
      const event = { name: 'Ada', nested: [1, { two: 2 }], text: 'quotes " and \\ and ünïcode' };
      const outcome = await h().invoke(instance, event);
      assert.deepEqual(expectOk(outcome), { argv1: event, stdin: event, cwd: '/code', greeting: 'hi' });
      assert.equal(outcome.logs, 'to stderr\n');
    });

    test('argv[1] and stdin are byte for byte the input JSON as the host serialised it', async () => {
      const instance = await h().loaded('command', 'raw.py');
      const event = { small: 1e-7, tiny: 0.000001, big: 1e21, int: 12345678901234567890, text: 'ü \u2028 "q" \\ \u0000', list: [true, null, -0.5] };
      const { argv1, stdin } = expectOk(await h().invoke(instance, event)) as { argv1: string; stdin: string };
      assert.equal(argv1, JSON.stringify(event));
      assert.equal(stdin, JSON.stringify(event));
    });

    test('shebangs (#!/bin/sh -e, #!/usr/bin/env python3), .js, .php and an ELF binary without its exec bit all run', async () => {
      const cases: Array<[string, (r: any) => boolean]> = [
        ['hello.sh', (r) => r.x === 'abc'],
        ['env-shebang', (r) => r.python === 3 && r.in.x === 'abc'],
        ['script.js', (r) => r.node === process.version && r.in.x === 'abc'],
        ['printf-elf', (r) => r.x === 'abc'],
      ];
      // A .php entry runs with the host's php-cli: without one only that case is left out (said loudly).
      if (!runtimeSkip('php')) cases.push(['script.php', (r) => typeof r.php === 'string' && r.in.x === 'abc']);
      await Promise.all(
        cases.map(async ([entry, check]) => {
          const instance = await h().loaded('command', entry);
          const outcome = await h().invoke(instance, { x: 'abc' });
          assert.ok(check(expectOk(outcome)), `${entry}: ${JSON.stringify(outcome)}`);
        }),
      );
    });

    test('the instance stays warm: one bootstrap, a new process per execution, stderr logged per execution', async () => {
      const instance = await h().loaded('command', 'pid.sh');
      const first = expectOk(await h().invoke(instance)) as { pid: number };
      const second = expectOk(await h().invoke(instance)) as { pid: number };
      assert.notEqual(first.pid, second.pid);
      assert.equal(instance.state, 'ready');
      const logged = await h().loaded('command', 'hello.sh');
      assert.equal((await h().invoke(logged, 'first')).logs, 'log-first\n');
      assert.equal((await h().invoke(logged, 'second')).logs, 'log-second\n');
    });

    test('{"error": ...}, a non-zero exit, a signal and non-JSON output are errors that say why; the instance stays usable', async () => {
      const [error, exit, segv, text] = await Promise.all(['error.sh', 'exit.sh', 'segv.sh', 'notjson.sh'].map((entry) => h().loaded('command', entry)));
      assert.equal(failure(await h().invoke(error!)), ': boom-from-user'); // reported as data: no exception name
      assert.match(failure(await h().invoke(exit!)), /exited with status 3; stderr: something went wrong/);
      assert.match(failure(await h().invoke(segv!)), /killed by SIGSEGV/);
      const notJson = await h().invoke(text!);
      assert.match(failure(notJson), /InvalidOutputError: .*stdout is not JSON: plain words/);
      assert.equal(notJson.logs, 'plain words\n');
      for (const instance of [error, exit, segv, text]) assert.equal(instance!.state, 'ready');
    });

    test('lines printed before a final JSON line are logs; the last line is the result', async () => {
      const instance = await h().loaded('command', 'progress.sh');
      const outcome = await h().invoke(instance);
      assert.deepEqual(expectOk(outcome), { done: true });
      assert.equal(outcome.logs, 'step 1\nstep 2\n');
    });

    test('nothing the command started outlives its execution, not even a process in its own session', async () => {
      const instance = await h().loaded('command', 'leftovers.sh');
      const before = (await instance.processes()).length;
      const outcome = await h().invoke(instance);
      assert.deepEqual(expectOk(outcome), { started: 3 });
      assert.equal((await instance.processes()).length, before, 'background processes were left running');
      assert.deepEqual(expectOk(await h().invoke(instance)), { started: 3 });
    });

    test('an input too large for argv is an error naming the limit; the instance stays usable', async () => {
      const instance = await h().loaded('command', 'hello.sh');
      assert.match(failure(await h().invoke(instance, 'x'.repeat(200 * 1024))), /InputTooLargeError: .*argv\[1\] holds at most/);
      assert.equal(expectOk(await h().invoke(instance, { x: 'abc' })) !== undefined, true);
    });

    test('an entry that cannot run fails the load, naming the reason', async () => {
      assert.match(await loadError('command', 'no-interpreter'), /#!\/nonexistent\/interpreter/);
      assert.match(await loadError('command', 'data.bin'), /no '#!' line, is not an ELF binary/);
      assert.match(await loadError('command', 'missing.sh'), /Cannot find the entry file 'missing.sh'/);
    });
  });

  describe('php runtime', { skip: runtimeSkip('php') }, () => {
    test("PHP's memory_limit follows the function's limit, below the instance's cgroup limit", async () => {
      const instance = await h().stem('php', { memoryMb: 256 });
      const outcome = await instance.load({ codeDir: h().codeDirs.php, handler: 'index.memoryLimit', env: {}, functionName: 'f', functionVersion: '1', deadlineMs: Date.now() + 10_000, limits: { memoryMb: 64 } });
      assert.equal(outcome.kind, 'loaded', JSON.stringify(outcome));
      assert.equal(expectOk(await h().invoke(instance)), '48M');
    });

    test('exit() and a fatal error fail the execution with what happened, and the instance is not reused', async () => {
      for (const [entry, expected] of [['quit', /^ExitError: The function ended the PHP process/], ['fatal', /^FatalError: Cannot redeclare (function )?strlen\(\)/]] as const) {
        const instance = await h().loaded('php', entry);
        const outcome = await h().invoke(instance);
        assert.match(failure(outcome), expected);
        if (entry === 'quit') assert.equal(outcome.logs, 'bye\n');
        assert.notEqual(instance.state, 'ready');
        assert.equal((await instance.exited).cause, 'killed');
      }
    });
  });

  describe('wasm runtime', () => {
    test('a WASI module reads the input on stdin; its stdout is the result and its stderr the logs', async () => {
      const instance = await loadedFrom('node', 'wasm', 'echo.wasm');
      const event = { name: 'Ada', list: [1, 2, 3], text: 'ünïcode' };
      const outcome = await h().invoke(instance, event);
      assert.deepEqual(expectOk(outcome), event);
      assert.equal(outcome.logs, 'echo-wasm\n');
    });

    test('each invocation gets a fresh instance of the compiled module: no state leaks between executions', async () => {
      const instance = await h().loaded('wasm', 'counter.wasm');
      const pid = instance.pid;
      assert.deepEqual([expectOk(await h().invoke(instance)), expectOk(await h().invoke(instance))], [1, 1]);
      assert.equal(instance.pid, pid);
    });

    test('{"error": ...}, non-JSON output, a non-zero exit and a trap are errors that say why', async () => {
      const instances = await Promise.all(['error.wasm', 'notjson.wasm', 'exit3.wasm', 'trap.wasm'].map((entry) => h().loaded('wasm', entry)));
      const [error, text, exit, trap] = await Promise.all(instances.map((i) => h().invoke(i)));
      assert.equal(failure(error!), ': boom-from-user'); // reported as data: no exception name
      assert.match(failure(text!), /stdout is not JSON: plain words/);
      assert.match(failure(exit!), /exited with status 3/);
      assert.match(failure(trap!), /WasmTrap: the module trapped: unreachable/);
      for (const instance of instances) assert.equal(instance.state, 'ready');
    });

    test('a module with an exported handler is instantiated once and stays warm; stdout is logs', async () => {
      const instance = await loadedFrom('node', 'wasm', 'reactor.wasm');
      const first = await h().invoke(instance, { name: 'Ada', text: 'ünïcode' });
      assert.deepEqual(expectOk(first), { init: 1, calls: 1, input: { name: 'Ada', text: 'ünïcode' } });
      assert.equal(first.logs, 'reactor-log\n');
      assert.deepEqual(expectOk(await h().invoke(instance, [1, 2])), { init: 1, calls: 2, input: [1, 2] });
      assert.equal(failure(await h().invoke(instance, null)), ': null input');
      assert.equal(instance.state, 'ready');
    });

    test('a trap or proc_exit in a handler fails the execution and the next one gets a fresh instance', async () => {
      const instance = await h().loaded('wasm', 'reactor.wasm');
      assert.deepEqual(expectOk(await h().invoke(instance, 1)), { init: 1, calls: 1, input: 1 });
      assert.deepEqual(expectOk(await h().invoke(instance, 2)), { init: 1, calls: 2, input: 2 });
      assert.match(failure(await h().invoke(instance, 'trap')), /^WasmTrap: the module trapped: unreachable/);
      assert.deepEqual(expectOk(await h().invoke(instance, 3)), { init: 1, calls: 1, input: 3 });
      assert.match(failure(await h().invoke(instance, 'exit')), /^ExitError: the module called proc_exit/);
      assert.deepEqual(expectOk(await h().invoke(instance, 4)), { init: 1, calls: 1, input: 4 });
      const bad = await h().loaded('wasm', 'bad-result.wasm');
      assert.match(failure(await h().invoke(bad, 1)), /^InvalidOutputError: .*outside its memory/);
      assert.equal(instance.state, 'ready');
    });

    test('a file that is not a valid module, or a missing one, fails the load', async () => {
      assert.match(await loadError('wasm', 'no-alloc.wasm'), /exports handle, so it must also export alloc and memory/);
      assert.match(await loadError('wasm', 'handler.wasm', h().brokenDirs.wasm), /InvalidModuleError: 'handler.wasm' is not a valid WebAssembly module/);
      assert.match(await loadError('wasm', 'missing.wasm'), /Cannot find the module file 'missing.wasm'/);
    });
  });
}
