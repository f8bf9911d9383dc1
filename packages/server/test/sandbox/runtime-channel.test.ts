/** The protocol channel on its own, over a pair of in-memory streams instead of a runtime's fds. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { ExitCause } from '../../src/sandbox/driver.ts';
import type { Termination } from '../../src/sandbox/process/pending-call.ts';
import { RuntimeChannel } from '../../src/sandbox/process/runtime-channel.ts';

function channel() {
  const toRuntime = new PassThrough();
  const fromRuntime = new PassThrough();
  const sent: Array<Record<string, unknown>> = [];
  toRuntime.on('data', (chunk: Buffer) => sent.push(...chunk.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)));
  const events: string[] = [];
  let ending: Termination | null = null;
  const rt = new RuntimeChannel(toRuntime, fromRuntime, {
    limits: () => ({ logBytes: 1024, outputBytes: 4096, memoryMb: 128 }),
    ending: () => ending,
    terminate: (cause: ExitCause, reason: string, callId: string | null) => {
      events.push(`terminate ${cause} ${callId}`);
      ending ??= { cause, reason, callId };
    },
    oomKilled: () => false,
    ready: () => events.push('ready'),
    loaded: () => events.push('loaded'),
    idle: () => events.push('idle'),
  });
  const reply = (message: object): void => void fromRuntime.write(`${JSON.stringify(message)}\n`);
  return { rt, sent, events, reply, ending: () => ending };
}

test('a runtime channel loads and invokes over any pair of streams; raw output lands in the sole call', async () => {
  const { rt, sent, events, reply } = channel();
  reply({ type: 'ready', runtime: 'node', version: 'x' });
  const loaded = rt.load({ codeDir: '/nowhere', handler: 'index.handler', env: {}, functionId: 'f1', functionName: 'f', functionVersion: '1', deadlineMs: Date.now() + 5000 }, 'node', undefined);
  await tick();
  assert.equal(sent[0]?.type, 'load');
  assert.deepEqual(sent[0]?.env, { SKYSCALE_FUNCTION_ID: 'f1' });
  reply({ type: 'loaded', id: sent[0]?.id, ok: true, dropped: 0 });
  assert.equal((await loaded).kind, 'loaded');
  const invoked = rt.invoke({ executionId: 'e1', event: { a: 1 }, deadlineMs: Date.now() + 5000 }, 'node');
  assert.equal(rt.inFlight, 1);
  await tick();
  rt.rawOutput(Buffer.from('raw\n'), 'raw\n');
  reply({ type: 'log', id: sent[1]?.id, stream: 'stdout', data: 'logged\n' });
  reply({ type: 'result', id: sent[1]?.id, ok: true, result: 42, dropped: 0 });
  const outcome = await invoked;
  assert.equal(outcome.kind, 'ok');
  assert.equal(outcome.kind === 'ok' && outcome.result, 42);
  assert.equal(outcome.logs, 'raw\nlogged\n');
  assert.deepEqual(events, ['ready', 'loaded', 'idle', 'idle'], 'idle after every reply that leaves nothing but loads in flight');
  assert.equal(rt.inFlight, 0);
});

test('a runtime channel ends the instance on a protocol violation; closing it settles what was in flight', async () => {
  const { rt, events, reply, ending } = channel();
  const invoked = rt.invoke({ executionId: 'e1', event: null, deadlineMs: Date.now() + 5000 }, 'node');
  await tick();
  reply({ nonsense: true });
  await tick();
  assert.deepEqual(events, ['terminate crashed i1']);
  rt.close(ending()!, { exitCode: null, signal: 'SIGKILL' });
  const outcome = await invoked;
  assert.equal(outcome.kind, 'crashed');
  assert.equal(outcome.kind === 'crashed' && outcome.reason, 'the runtime broke the protocol');
  const late = await rt.invoke({ executionId: 'e2', event: null, deadlineMs: Date.now() + 5000 }, 'node');
  assert.equal(late.kind, 'crashed', 'a call after the end settles at once');
});
