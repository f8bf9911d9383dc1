/** Stream functions end to end: WebSocket → platform → exclusive sandboxed instance, and back. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { runtimeSkip, sandboxSkipReason } from '../helpers/sandbox.ts';
import { connect, open } from '../helpers/ws-client.ts';

const skip = sandboxSkipReason();

const ECHO = `
export async function stream(messages, send, context) {
  let count = 0;
  for await (const m of messages) {
    count++;
    await send(typeof m === 'string' ? 'echo: ' + m : m);
  }
  console.log('session over after', count);
  return { count, path: context.request.path, query: context.request.query, sawKey: 'x-api-key' in context.request.headers };
}
`;

/** A running total per connection, plus this process's identity (instances are exclusive, then reused). */
const TOTAL = `
const instance = Math.random().toString(36).slice(2);
export async function stream(messages, send) {
  let total = 0;
  await send(JSON.stringify({ instance }));
  for await (const m of messages) {
    total += Number(m);
    await send(JSON.stringify({ total }));
  }
  return total;
}
`;

const CLOSER = `
export async function stream(messages, send, context) {
  for await (const m of messages) {
    if (m === 'bye') context.close(4000, 'see you');
    else if (m === 'throw') throw new Error('handler failed on purpose');
    else if (m === 'stubborn') await new Promise(() => {});
    else await send('ok ' + m);
  }
  return 'returned';
}
`;

const PUSH = `
export async function stream(messages, send) {
  const chunk = 'x'.repeat(16 * 1024);
  let n = 0;
  while (await send(chunk)) n++;
  return n;
}
`;

const DEAF = `
export async function stream(messages, send) {
  await send('ready');
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}
`;

const PYTHON = `
import os

INSTANCE = os.urandom(8).hex()  # every instance is pid 1 of its own namespace


def stream(messages, send, context):
    total = 0
    send("instance " + INSTANCE)
    for m in messages:
        if m == "bye":
            context.close(4001, "python says bye")
            break
        if isinstance(m, bytes):
            send(m[::-1])
            continue
        total += int(m)
        send("total %d" % total)
    return {"total": total, "path": context.request["path"]}


def handler(event, context):
    return "plain invoke still works"
`;

describe('stream functions over WebSocket', { skip }, () => {
  let p: TestPlatform;
  let base: string;
  let key: string;
  let alice: Record<string, string>;
  let bobKey: string;

  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1', STREAM_END_GRACE_MS: '1000' });
    base = p.gatewayUrl.replace(/^http/, 'ws');
    alice = (await p.user('alice')).auth;
    key = (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: alice, payload: { name: 'ws' } })).json().key;
    const bob = (await p.user('bob')).auth;
    bobKey = (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: bob, payload: { name: 'ws' } })).json().key;
  });
  after(() => p.close());

  const deploy = async (payload: object) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; name: string; stream: { minFree: number; idleTimeoutMs: number } };
  };
  const status = async (id: string) => {
    const res = await p.api.inject({ method: 'GET', url: `/api/functions/${id}/streams`, headers: alice });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as {
      pools: Array<{ version: number; starting: number; instances: Array<{ id: string; state: 'busy' | 'idle'; sessions: number }> }>;
      sessions: Array<{ executionId: string; instanceId: string; messagesIn: number; messagesOut: number; bufferedBytes: number; clientBufferedBytes: number }>;
    };
  };
  const count = async (id: string) => {
    const instances = (await status(id)).pools.flatMap((pool) => pool.instances);
    return { busy: instances.filter((i) => i.state === 'busy').length, idle: instances.filter((i) => i.state === 'idle').length };
  };
  const until = async <T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (ok(value)) return value;
      if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(value)} after ${ms} ms`);
      await sleep(100);
    }
  };
  const execution = (id: string) => until(`execution ${id}`, async () => p.api.inject({ method: 'GET', url: `/api/executions/${id}`, headers: alice }), (res) => res.statusCode === 200).then((res) => res.json());
  const withKey = () => ({ 'x-api-key': key });

  test('echo: text and binary both ways; closing from the client ends the session, which is recorded', async () => {
    const fn = await deploy({ name: 'echo', runtime: 'node', code: ECHO, handler: 'index.stream' });
    const ws = await open(`${base}/echo/room/7?lang=en`, withKey());
    const executionId = ws.headers['x-execution-id'] as string;
    assert.match(executionId, /^[0-9a-f-]{36}$/);
    ws.send('hello');
    assert.equal(await ws.next(), 'echo: hello');
    ws.send(Buffer.from([1, 2, 3]));
    assert.deepEqual(await ws.next(), Buffer.from([1, 2, 3]));
    for (let i = 0; i < 100; i++) ws.send(`m${i}`);
    for (let i = 0; i < 100; i++) assert.equal(await ws.next(), `echo: m${i}`);
    assert.equal((await count(fn.id)).busy, 1);
    ws.ws.close(1000, 'done');
    assert.equal((await ws.closed).code, 1000);
    const e = await execution(executionId);
    assert.equal(e.mode, 'stream');
    assert.equal(e.status, 'succeeded', JSON.stringify(e.error));
    assert.deepEqual(e.result, { count: 102, path: '/room/7', query: { lang: 'en' }, sawKey: false });
    assert.deepEqual(e.input, { path: '/room/7', query: { lang: 'en' } });
    const logs = (await p.api.inject({ method: 'GET', url: `/api/executions/${executionId}/logs`, headers: alice })).json();
    assert.match(logs.logs, /session over after 102/);
    // The instance is free again, and /ws/{name} reaches the same function.
    assert.deepEqual(await until('instance back to idle', () => count(fn.id), (c) => c.busy === 0), { busy: 0, idle: 1 });
    const again = await open(`${base}/ws/echo`, { authorization: `Bearer ${key}` });
    again.send('second');
    assert.equal(await again.next(), 'echo: second');
    again.ws.close();
  });

  test('state is per connection; concurrent connections never share an instance; a freed instance is reused', async () => {
    const fn = await deploy({ name: 'total', runtime: 'node', code: TOTAL, handler: 'index.stream' });
    const sockets = await Promise.all([1, 2, 3].map(() => open(`${base}/total`, withKey())));
    const instances = await Promise.all(sockets.map(async (s) => JSON.parse(String(await s.next())).instance as string));
    assert.equal(new Set(instances).size, 3, `three connections, three instances: ${instances}`);
    // Interleaved messages: each connection keeps its own total.
    for (let round = 1; round <= 3; round++) {
      sockets.forEach((s, i) => s.send(String((i + 1) * round)));
      for (const [i, s] of sockets.entries()) assert.deepEqual(JSON.parse(String(await s.next())), { total: (i + 1) * (round * (round + 1)) / 2 });
    }
    const busy = await status(fn.id);
    assert.equal(busy.sessions.length, 3);
    assert.equal(new Set(busy.sessions.map((s) => s.instanceId)).size, 3);
    sockets[1].ws.close();
    await until('one instance free', () => count(fn.id), (c) => c.busy === 2 && c.idle === 1);
    const fourth = await open(`${base}/total`, withKey());
    assert.equal(JSON.parse(String(await fourth.next())).instance, instances[1], 'the freed instance serves the next connection');
    fourth.send('5');
    assert.deepEqual(JSON.parse(String(await fourth.next())), { total: 5 }, 'a new connection starts with fresh state');
    for (const s of [sockets[0], sockets[2], fourth]) s.ws.close();
  });

  test('the function closes the connection: code and reason reach the client; the instance goes back to the pool', async () => {
    const fn = await deploy({ name: 'closer', runtime: 'node', code: CLOSER, handler: 'index.stream' });
    const ws = await open(`${base}/closer`, withKey());
    ws.send('a');
    assert.equal(await ws.next(), 'ok a');
    ws.send('bye');
    assert.deepEqual(await ws.closed, { code: 4000, reason: 'see you' });
    const e = await execution(ws.headers['x-execution-id'] as string);
    assert.equal(e.status, 'succeeded');
    assert.equal(e.result, 'returned');
    assert.deepEqual(await until('instance idle', () => count(fn.id), (c) => c.busy === 0), { busy: 0, idle: 1 });
  });

  test('a handler that throws closes with 1011; one that ignores the client leaving is stopped after the grace period', async () => {
    const fn = await deploy({ name: 'closer2', runtime: 'node', code: CLOSER, handler: 'index.stream' });
    const failing = await open(`${base}/closer2`, withKey());
    failing.send('throw');
    const closed = await failing.closed;
    assert.equal(closed.code, 1011);
    assert.match(closed.reason, /failed: Error: handler failed on purpose/);
    const failed = await execution(failing.headers['x-execution-id'] as string);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.reason, 'user_error');

    const stubborn = await open(`${base}/closer2`, withKey());
    stubborn.send('stubborn');
    await sleep(200);
    stubborn.ws.close();
    const e = await until('stubborn session recorded', () => p.api.inject({ method: 'GET', url: `/api/executions/${stubborn.headers['x-execution-id']}`, headers: alice }), (res) => res.statusCode === 200, 10_000);
    assert.equal(e.json().status, 'timed_out', JSON.stringify(e.json()));
    assert.match(e.json().error.message, /did not return within 1000 ms after the client went away/);
    assert.equal(e.json().instanceId, failed.instanceId, 'the instance of the failed (but returned) session was reused');
    await until('the stubborn instance is gone', () => status(fn.id), (st) => !st.pools.some((pool) => pool.instances.some((i) => i.id === failed.instanceId)));
  });

  test('idle instances are reaped after idleTimeoutMs: the function scales to zero', async () => {
    const fn = await deploy({ name: 'reaped', runtime: 'node', code: ECHO, handler: 'index.stream', stream: { idleTimeoutMs: 1000 } });
    assert.deepEqual(fn.stream, { minFree: 0, idleTimeoutMs: 1000 });
    const ws = await open(`${base}/reaped`, withKey());
    ws.send('x');
    await ws.next();
    ws.ws.close();
    await until('idle after the session', () => count(fn.id), (c) => c.idle === 1 && c.busy === 0);
    await until('reaped', () => status(fn.id), (s) => s.pools.length === 0, 10_000);
  });

  test('minFree keeps spare idle instances while the function is in use, then scales to zero', async () => {
    const fn = await deploy({ name: 'spares', runtime: 'node', code: TOTAL, handler: 'index.stream', stream: { minFree: 2, idleTimeoutMs: 1000 } });
    const ws = await open(`${base}/spares`, withKey());
    await ws.next();
    await until('two spares started', () => count(fn.id), (c) => c.busy === 1 && c.idle === 2);
    // Well past idleTimeout, with a session open: the spares stay.
    await sleep(2500);
    assert.deepEqual(await count(fn.id), { busy: 1, idle: 2 });
    // A second connection takes a spare (no cold start) and another is started in its place.
    const second = await open(`${base}/spares`, withKey());
    await second.next();
    await until('topped up again', () => count(fn.id), (c) => c.busy === 2 && c.idle === 2);
    const sessions = (await status(fn.id)).sessions;
    assert.equal(sessions.length, 2);
    ws.ws.close();
    second.ws.close();
    await until('scaled to zero once no session is open', () => status(fn.id), (s) => s.pools.length === 0, 15_000);
    const first = await execution(ws.headers['x-execution-id'] as string);
    const next = await execution(second.headers['x-execution-id'] as string);
    assert.equal(first.coldStart, true);
    assert.equal(next.coldStart, false, 'the second connection found a spare');
  });

  test('back-pressure: a client that stops reading holds back the function; the server buffers a bounded amount', async () => {
    const fn = await deploy({ name: 'push', runtime: 'node', code: PUSH, handler: 'index.stream' });
    const ws = await open(`${base}/push`, withKey());
    await ws.next();
    const socket = (ws.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    await sleep(1500);
    const a = (await status(fn.id)).sessions[0];
    await sleep(700);
    const b = (await status(fn.id)).sessions[0];
    assert.equal(b.messagesOut, a.messagesOut, 'the function is blocked in send() while the client does not read');
    const bound = 1024 * 1024 + 2 * 16 * 1024;
    assert.ok(b.bufferedBytes <= bound, `the server holds ${b.bufferedBytes} bytes for the session (bound ${bound})`);
    assert.ok(b.clientBufferedBytes <= bound, `ws buffers ${b.clientBufferedBytes} bytes`);
    socket.resume();
    const before = ws.inbox.length;
    await until('messages flow again', async () => ws.inbox.length + (await status(fn.id)).sessions[0].messagesOut, (n) => n > before + b.messagesOut + 200);
    ws.ws.close();
  });

  test('back-pressure: a function that does not read stops the server reading the client', async () => {
    const fn = await deploy({ name: 'deaf', runtime: 'node', code: DEAF, handler: 'index.stream' });
    const ws = await open(`${base}/deaf`, withKey());
    assert.equal(await ws.next(), 'ready');
    const chunk = 'y'.repeat(32 * 1024);
    for (let i = 0; i < 400; i++) ws.send(chunk); // 12.5 MiB
    await sleep(1500);
    const s = (await status(fn.id)).sessions[0];
    assert.ok(s.bufferedBytes <= 1024 * 1024 + 4 * 32 * 1024 + 128 * 1024, `the server holds ${s.bufferedBytes} bytes of the client's messages`);
    assert.ok(s.messagesIn < 200, `read ${s.messagesIn} of 400 messages`);
    assert.ok(ws.ws.bufferedAmount > 0, 'the rest waits on the client side');
    ws.ws.terminate();
  });

  test('python: stream(messages, send, context) with text, binary, state and a close from the function', async () => {
    const fn = await deploy({ name: 'py-stream', runtime: 'python', code: PYTHON });
    const ws = await open(`${base}/ws/py-stream/sub`, withKey());
    const instance = String(await ws.next());
    assert.match(instance, /^instance [0-9a-f]{16}$/);
    ws.send('2');
    assert.equal(await ws.next(), 'total 2');
    ws.send('40');
    assert.equal(await ws.next(), 'total 42');
    ws.send(Buffer.from('abc'));
    assert.deepEqual(await ws.next(), Buffer.from('cba'));
    const other = await open(`${base}/py-stream`, withKey());
    assert.notEqual(String(await other.next()), instance, 'a concurrent connection gets its own instance');
    other.send('1');
    assert.equal(await other.next(), 'total 1');
    ws.send('bye');
    assert.deepEqual(await ws.closed, { code: 4001, reason: 'python says bye' });
    const e = await execution(ws.headers['x-execution-id'] as string);
    assert.deepEqual(e.result, { total: 42, path: '/sub' });
    other.ws.close();
    const ended = await execution(other.headers['x-execution-id'] as string);
    assert.equal(ended.status, 'succeeded');
    assert.deepEqual(ended.result, { total: 1, path: '/' });
    // The same module still answers plain invocations.
    const invoked = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.id}/invoke`, headers: { ...alice, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(invoked.json().result, 'plain invoke still works');
  });

  test('auth of a private function: the owner\'s API key only; others and anonymous callers get 404, a bad key 401', async () => {
    await deploy({ name: 'private-stream', runtime: 'node', code: ECHO, handler: 'index.stream' });
    const anonymous = await connect(`${base}/private-stream`);
    assert.ok('refused' in anonymous);
    assert.equal(anonymous.status, 404);
    assert.equal(anonymous.body.error?.code, 'NOT_FOUND');
    const bob = await connect(`${base}/private-stream`, { 'x-api-key': bobKey });
    assert.ok('refused' in bob && bob.status === 404);
    const bad = await connect(`${base}/private-stream`, { 'x-api-key': 'sk_not-a-real-key' });
    assert.ok('refused' in bad && bad.status === 401, JSON.stringify(bad));
    const missing = await connect(`${base}/no-such-function`, withKey());
    assert.ok('refused' in missing && missing.status === 404);
    // A malformed handshake to a real function is refused before any instance is reserved.
    const { request } = await import('node:http');
    const malformed = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = request(`${p.gatewayUrl}/private-stream`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'x-api-key': key } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(malformed.status, 400);
    assert.equal(JSON.parse(malformed.body).error.code, 'BAD_REQUEST');
  });

  test('a public function streams to anyone, also at /function/{name}; its owner\'s key still works', async () => {
    await deploy({ name: 'public-stream', runtime: 'node', code: ECHO, public: true });
    // The gateway's routing table (public names) is refreshed right after the deploy.
    const attempt = await until('public on the gateway', () => connect(`${base}/public-stream`), (s) => !('refused' in s), 5000);
    assert.ok(!('refused' in attempt));
    const anonymous = attempt;
    anonymous.send('hi');
    assert.equal(await anonymous.next(), 'echo: hi');
    const viaFunctionPath = await open(`${base}/function/public-stream/deep?x=1`, { 'x-api-key': bobKey });
    viaFunctionPath.send('from bob');
    assert.equal(await viaFunctionPath.next(), 'echo: from bob');
    viaFunctionPath.ws.close();
    await viaFunctionPath.closed;
    const e = await execution(viaFunctionPath.headers['x-execution-id'] as string);
    assert.deepEqual(e.result, { count: 1, path: '/deep', query: { x: '1' }, sawKey: false });
    anonymous.ws.close();
  });

  test('a function that fails to load: the upgrade is refused with 502, and the failed start is recorded', async () => {
    await deploy({ name: 'broken-stream', runtime: 'node', code: 'throw new Error("cannot start");\nexport async function stream() {}' });
    const refused = await connect(`${base}/broken-stream`, withKey());
    assert.ok('refused' in refused);
    assert.equal(refused.status, 502);
    assert.equal(refused.body.error?.code, 'EXECUTION_FAILED');
    const { executionId } = (refused.body.error as { details: { executionId: string } }).details;
    const e = await execution(executionId);
    assert.equal(e.mode, 'stream');
    assert.equal(e.status, 'failed');
    assert.match(e.error.message, /cannot start/);
  });

  test('only node and python functions stream: a php function is refused with 400', { skip: runtimeSkip('php') }, async () => {
    await deploy({ name: 'php-fn', runtime: 'php', code: '<?php function handler($event, $context) { return 1; }' });
    const refused = await connect(`${base}/php-fn`, withKey());
    assert.ok('refused' in refused);
    assert.equal(refused.status, 400);
    assert.match(refused.body.error?.message ?? '', /php functions cannot serve streams/);
  });

  test('a function without a stream export: the connection closes 1011 with the reason', async () => {
    await deploy({ name: 'not-a-stream', runtime: 'node', code: 'export const handler = () => 1;' });
    const ws = await open(`${base}/not-a-stream`, withKey());
    const closed = await ws.closed;
    assert.equal(closed.code, 1011);
    assert.match(closed.reason, /no `stream` export/);
  });

  test('a new version serves new connections; the old version\'s instance stops when its session ends; deleting cuts sessions', async () => {
    const fn = await deploy({ name: 'versions', runtime: 'node', code: TOTAL });
    const v1 = await open(`${base}/versions`, withKey());
    const v1Instance = JSON.parse(String(await v1.next())).instance;
    const updated = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}`, headers: alice, payload: { code: TOTAL.replace('let total = 0', 'let total = 1000') } });
    assert.equal(updated.json().version, 2);
    const v2 = await open(`${base}/versions`, withKey());
    assert.notEqual(JSON.parse(String(await v2.next())).instance, v1Instance);
    v2.send('1');
    assert.deepEqual(JSON.parse(String(await v2.next())), { total: 1001 });
    v1.send('1');
    assert.deepEqual(JSON.parse(String(await v1.next())), { total: 1 }, 'the open session keeps its version');
    v1.ws.close();
    await until('only version 2 is left', () => status(fn.id), (s) => s.pools.length === 1 && s.pools[0].version === 2 && s.pools[0].instances.length === 1);
    const deleted = await p.api.inject({ method: 'DELETE', url: `/api/functions/${fn.id}`, headers: alice });
    assert.equal(deleted.statusCode, 204);
    const closed = await v2.closed;
    assert.equal(closed.code, 1011);
    assert.match(closed.reason, /function deleted/);
  });

  test('the stream policy is validated and kept across updates', async () => {
    const bad = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'bad-policy', runtime: 'node', code: ECHO, stream: { minFree: 101 } } });
    assert.equal(bad.statusCode, 400);
    const fn = await deploy({ name: 'policy', runtime: 'node', code: ECHO, stream: { minFree: 1 } });
    assert.deepEqual(fn.stream, { minFree: 1, idleTimeoutMs: 900_000 });
    const updated = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}`, headers: alice, payload: { stream: { idleTimeoutMs: 5000 } } });
    assert.deepEqual(updated.json().stream, { minFree: 1, idleTimeoutMs: 5000 });
    const again = await p.api.inject({ method: 'PUT', url: `/api/functions/${fn.id}`, headers: alice, payload: { memoryMb: 256 } });
    assert.deepEqual(again.json().stream, { minFree: 1, idleTimeoutMs: 5000 });
  });
});

describe('stream sessions when the platform stops', { skip }, () => {
  test('open sessions are closed with 1001 and the platform stops within the grace period', async () => {
    const p = await testPlatform({ WARM_POOL_SIZE: '0', STREAM_END_GRACE_MS: '500' });
    let closed = false;
    try {
      const alice = (await p.user('alice')).auth;
      const key = (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: alice, payload: {} })).json().key;
      for (const [name, code] of [['polite', ECHO], ['stubborn', CLOSER]]) {
        const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name, runtime: 'node', code } });
        assert.equal(res.statusCode, 201, res.body);
      }
      const base = p.gatewayUrl.replace(/^http/, 'ws');
      const polite = await open(`${base}/polite`, { 'x-api-key': key });
      const stubborn = await open(`${base}/stubborn`, { 'x-api-key': key });
      stubborn.send('stubborn');
      polite.send('hi');
      assert.equal(await polite.next(), 'echo: hi');
      const t0 = Date.now();
      await p.close();
      closed = true;
      assert.ok(Date.now() - t0 < 5000, `stopping took ${Date.now() - t0} ms`);
      assert.deepEqual(await polite.closed, { code: 1001, reason: 'the platform is stopping' });
      assert.equal((await stubborn.closed).code, 1001);
    } finally {
      if (!closed) await p.close();
    }
  });
});
