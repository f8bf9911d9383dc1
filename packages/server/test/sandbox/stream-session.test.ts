/** Stream sessions at the driver level: the protocol, flow control both ways, both runtimes. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InvokeOutcome, SandboxInstance, SandboxRuntime, StreamMessage, StreamRequest, StreamSession } from '../../src/sandbox/driver.ts';
import { ProcessDriver } from '../../src/sandbox/process/process-driver.ts';
import { sandboxSkipReason, testDriverOptions } from '../helpers/sandbox.ts';

const NODE = String.raw`
export async function stream(messages, send, context) {
  if (context.request.path === '/push') {
    let n = 0;
    while (await send('x'.repeat(1000) + (n++))) {}
    return { pushed: n };
  }
  if (context.request.path === '/closer') {
    for await (const m of messages) {
      if (m === 'bye') { context.close(4001, 'asked to'); break; }
      await send('got ' + m);
    }
    return 'closed';
  }
  if (context.request.path === '/ignore') {
    await new Promise((r) => setTimeout(r, 60_000));
  }
  let count = 0;
  for await (const m of messages) {
    count++;
    await send(typeof m === 'string' ? 'echo:' + m : Buffer.concat([Buffer.from('bin:'), m]));
  }
  console.log('client went away after', count);
  return { count, mode: context.mode, query: context.request.query };
}
export const handler = () => 'invoked';
`;

const PYTHON = `
def stream(messages, send, context):
    path = context.request.get("path")
    if path == "/push":
        n = 0
        while send("x" * 1000 + str(n)):
            n += 1
        return {"pushed": n}
    if path == "/closer":
        for m in messages:
            if m == "bye":
                context.close(4001, "asked to")
                break
            send("got " + m)
        return "closed"
    count = 0
    for m in messages:
        count += 1
        send("echo:" + m if isinstance(m, str) else b"bin:" + m)
    print("client went away after", count)
    return {"count": count, "mode": context.mode, "query": context.request.get("query")}


def handler(event, context):
    return "invoked"
`;

const skip = sandboxSkipReason();

interface Probe {
  session: StreamSession;
  received: StreamMessage[];
  closed: Array<{ code: number; reason: string }>;
  writable: number;
  /** Release each received message at once (a fast client). */
  autoRelease: boolean;
  next(): Promise<StreamMessage>;
}

function open(instance: SandboxInstance, requestPath: string, options: Partial<Pick<StreamRequest, 'window'>> & { autoRelease?: boolean } = {}): Probe {
  let wake: (() => void) | null = null;
  const probe: Probe = {
    session: undefined as unknown as StreamSession,
    received: [],
    closed: [],
    writable: 0,
    autoRelease: options.autoRelease ?? true,
    async next() {
      while (probe.received.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return probe.received.shift()!;
    },
  };
  probe.session = instance.openStream({
    executionId: `exec-${randomUUID().slice(0, 8)}`,
    deadlineMs: Date.now() + 60_000,
    request: { path: requestPath, query: { a: '1' }, headers: {} },
    window: options.window,
    onMessage: (message) => {
      probe.received.push(message);
      if (probe.autoRelease) probe.session.release();
      wake?.();
    },
    onClose: (code, reason) => probe.closed.push({ code, reason }),
    onWritable: () => probe.writable++,
  });
  return probe;
}

const ok = (outcome: InvokeOutcome): unknown => {
  assert.equal(outcome.kind, 'ok', JSON.stringify(outcome).slice(0, 2000));
  return (outcome as { result: unknown }).result;
};

describe('stream sessions (process driver)', { skip }, () => {
  let driver: ProcessDriver;
  let root: string;
  let workDir: string;
  const instances: SandboxInstance[] = [];

  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'skyscale-stream-test-'));
    workDir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-stream-work-'));
    driver = new ProcessDriver({ ...testDriverOptions(), workDir, cgroupName: 'skyscale-test' });
    for (const [runtime, file, code] of [['node', 'index.js', NODE], ['python', 'main.py', PYTHON]] as const) {
      mkdirSync(path.join(root, runtime));
      writeFileSync(path.join(root, runtime, file), code);
    }
  });
  after(async () => {
    await Promise.all(instances.map((i) => i.kill('test finished')));
    rmSync(root, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  async function loaded(runtime: SandboxRuntime): Promise<SandboxInstance> {
    const instance = await driver.start({ id: `stream-${runtime}-${randomUUID().slice(0, 8)}`, runtime, limits: { memoryMb: 128 } });
    instances.push(instance);
    const outcome = await instance.load({ codeDir: path.join(root, runtime), handler: runtime === 'node' ? 'index.handler' : 'main.handler', env: {}, functionName: 'streams', functionVersion: '1', deadlineMs: Date.now() + 10_000 });
    assert.equal(outcome.kind, 'loaded', JSON.stringify(outcome));
    return instance;
  }

  for (const runtime of ['node', 'python'] as const) {
    test(`${runtime}: echo both ways, text and binary; the client ending ends the handler; the instance is reusable`, async () => {
      const instance = await loaded(runtime);
      const probe = open(instance, '/');
      assert.equal(instance.state, 'busy');
      assert.equal(probe.session.write({ data: 'hello', binary: false }), true);
      assert.deepEqual(await probe.next(), { data: 'echo:hello', binary: false });
      probe.session.write({ data: Buffer.from([0, 1, 2, 255]), binary: true });
      const bin = await probe.next();
      assert.equal(bin.binary, true);
      assert.deepEqual([...(bin.data as Buffer)], [...Buffer.from('bin:'), 0, 1, 2, 255]);
      for (let i = 0; i < 300; i++) probe.session.write({ data: `m${i}`, binary: false });
      for (let i = 0; i < 300; i++) assert.equal((await probe.next()).data, `echo:m${i}`);
      probe.session.end();
      const outcome = await probe.session.outcome;
      assert.deepEqual(ok(outcome), { count: 302, mode: 'stream', query: { a: '1' } });
      assert.match(outcome.logs, /client went away after 302/);
      assert.equal(instance.state, 'ready');
      // The same instance serves another session, and plain invocations.
      const again = open(instance, '/');
      again.session.write({ data: 'second', binary: false });
      assert.equal((await again.next()).data, 'echo:second');
      again.session.end();
      assert.equal((ok(await again.session.outcome) as { count: number }).count, 1);
      assert.equal(ok(await instance.invoke({ executionId: 'e1', event: null, deadlineMs: Date.now() + 5000 })), 'invoked');
    });

    test(`${runtime}: the function closes with a code and reason`, async () => {
      const instance = await loaded(runtime);
      const probe = open(instance, '/closer');
      probe.session.write({ data: 'a', binary: false });
      probe.session.write({ data: 'bye', binary: false });
      assert.equal((await probe.next()).data, 'got a');
      assert.equal(ok(await probe.session.outcome), 'closed');
      assert.deepEqual(probe.closed, [{ code: 4001, reason: 'asked to' }]);
    });

    test(`${runtime}: a client that does not read holds back the function, bounded by the window`, async () => {
      const instance = await loaded(runtime);
      const probe = open(instance, '/push', { window: { messages: 16, bytes: 1024 * 1024 }, autoRelease: false });
      await sleep(1500);
      // The function is blocked in send(): the host holds at most one window of its messages.
      assert.equal(probe.received.length, 16);
      assert.ok(probe.session.bufferedBytes <= 16 * 1010, `buffered ${probe.session.bufferedBytes}`);
      // Reading again lets it go on.
      for (let i = 0; i < 16; i++) probe.session.release();
      probe.autoRelease = true;
      for (let i = 0; i < 16; i++) probe.session.release();
      await sleep(300);
      assert.ok(probe.received.length > 100, `only ${probe.received.length} after releasing`);
      probe.session.end();
      const result = ok(await probe.session.outcome) as { pushed: number };
      assert.ok(result.pushed >= 100);
    });
  }

  test('node: a function that does not read stops the host from writing (write() false, then onWritable)', async () => {
    const instance = await loaded('node');
    const probe = open(instance, '/ignore', { window: { messages: 8, bytes: 1024 * 1024 } });
    let accepted = 0;
    for (let i = 0; i < 20; i++) if (probe.session.write({ data: `m${i}`, binary: false })) accepted++;
    assert.equal(accepted, 8, 'the window takes 8 messages; the ninth write says stop');
    assert.ok(probe.session.bufferedBytes > 0);
    void instance.kill('done');
    const outcome = await probe.session.outcome;
    assert.equal(outcome.kind, 'crashed');
  });

  test('a module without a stream export: the session fails with a clear error, the instance stays usable', async () => {
    const dir = path.join(root, 'plain');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'index.js'), 'export const handler = () => 1;');
    const instance = await driver.start({ id: `stream-plain-${randomUUID().slice(0, 8)}`, runtime: 'node', limits: { memoryMb: 128 } });
    instances.push(instance);
    assert.equal((await instance.load({ codeDir: dir, handler: 'index.handler', env: {}, functionName: 'p', functionVersion: '1', deadlineMs: Date.now() + 10_000 })).kind, 'loaded');
    const outcome = await open(instance, '/').session.outcome;
    assert.equal(outcome.kind, 'error');
    assert.equal((outcome as { name: string }).name, 'StreamHandlerNotFoundError');
    assert.equal(instance.state, 'ready');
  });
});
