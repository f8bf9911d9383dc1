/** Streams from the outside: the real server process, the `skyscale stream` command and the SDK. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SkyscaleClient, SkyscaleError, type WebSocketConstructor } from '@skyscale/client';
import WebSocket from 'ws';
import { runCli, startSkyscale } from '../helpers/server-process.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

const CHAT = `
export async function stream(messages, send, context) {
  await send('welcome ' + (context.request.query.user ?? 'anonymous') + ' at ' + context.request.path);
  let n = 0;
  for await (const m of messages) {
    if (m === 'quit') { context.close(4000, 'bye'); break; }
    if (typeof m !== 'string') { await send(m); continue; }
    await send(++n + ': ' + m.toUpperCase());
  }
  return n;
}
`;

const cli = runCli;

describe('streams through the CLI and the SDK (real server process)', { skip }, () => {
  let server: Awaited<ReturnType<typeof startSkyscale>>;
  let work: string;
  let client: SkyscaleClient;
  let env: Record<string, string>;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'skyscale-stream-e2e-'));
    server = await startSkyscale({ WARM_POOL_SIZE: '1' });
    const anonymous = new SkyscaleClient({ endpoint: server.url });
    await anonymous.register('streamer', 'streamer-password');
    const session = await anonymous.login('streamer', 'streamer-password');
    const key = await new SkyscaleClient({ endpoint: server.url, token: session.token }).createApiKey('stream');
    client = new SkyscaleClient({ endpoint: server.url, apiKey: key.key, gatewayEndpoint: server.gatewayUrl });
    await client.createFunction({ name: 'chat', runtime: 'node', code: CHAT });
    env = { XDG_CONFIG_HOME: path.join(work, 'config'), SKYSCALE_ENDPOINT: server.url, SKYSCALE_GATEWAY: server.gatewayUrl, SKYSCALE_API_KEY: key.key };
  });
  after(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('skyscale stream: stdin lines become messages, replies are printed, end of input closes the session', async () => {
    const run = await cli(['stream', 'chat', '--path', '/room', '-q', 'user=ada'], env, 'hello\nworld\n');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'welcome ada at /room\n1: HELLO\n2: WORLD\n');
    // The record is written in a batch shortly after the session ended.
    let latest = (await client.listExecutions({ limit: 1 })).items[0];
    for (let i = 0; i < 50 && latest?.mode !== 'stream'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      latest = (await client.listExecutions({ limit: 1 })).items[0];
    }
    assert.equal(latest.mode, 'stream');
    assert.equal(latest.result, 2);
  });

  test('skyscale stream: a close from the function is reported; an unknown function is a clear error', async () => {
    const closed = await cli(['stream', 'chat'], env, 'a\nquit\nnever sent\n');
    assert.equal(closed.code, 0, closed.stderr);
    assert.equal(closed.stdout, 'welcome anonymous at /\n1: A\n');
    assert.match(closed.stderr, /closed by the function with 4000: bye/);
    const missing = await cli(['stream', 'no-such'], env, '');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND/);
    const anonymous = await cli(['stream', 'chat'], { ...env, SKYSCALE_API_KEY: '' }, '');
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /NOT_FOUND/);
  });

  test('SDK openStream with the global WebSocket: async iteration, binary, close from the client', async () => {
    const stream = await client.openStream('chat', { query: { user: 'sdk' } });
    assert.equal(await stream.next(), 'welcome sdk at /');
    stream.send('one');
    assert.equal(await stream.next(), '1: ONE');
    stream.send(new Uint8Array([7, 8, 9]));
    assert.deepEqual(await stream.next(), new Uint8Array([7, 8, 9]));
    stream.close();
    assert.equal((await stream.closed).code, 1000);
    assert.equal(await stream.next(), undefined);
    const status = await client.streamStatus((await client.getFunctionByName('chat')).id);
    assert.ok(status.pools[0].instances.length >= 1);
  });

  test('SDK openStream with the ws package: the execution id, and refusals as SkyscaleError', async () => {
    const viaWs = new SkyscaleClient({ endpoint: server.url, gatewayEndpoint: server.gatewayUrl, apiKey: env.SKYSCALE_API_KEY, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const stream = await viaWs.openStream('chat');
    assert.match(stream.executionId ?? '', /^[0-9a-f-]{36}$/);
    const lines: string[] = [];
    stream.send('x');
    stream.send('quit');
    for await (const m of stream) lines.push(String(m));
    assert.deepEqual(lines, ['welcome anonymous at /', '1: X']);
    assert.deepEqual(await stream.closed, { code: 4000, reason: 'bye' });
    // The record is written in a batch shortly after the session ended.
    let e;
    for (let i = 0; i < 50 && e === undefined; i++) {
      e = await client.getExecution(stream.executionId!).catch((err: unknown) => {
        if (err instanceof SkyscaleError && err.status === 404) return new Promise<undefined>((r) => setTimeout(r, 100));
        throw err;
      });
    }
    assert.equal(e?.status, 'succeeded');
    await assert.rejects(viaWs.openStream('no-such'), (err: unknown) => err instanceof SkyscaleError && err.status === 404 && err.code === 'NOT_FOUND');
    const global = new SkyscaleClient({ endpoint: server.url, gatewayEndpoint: server.gatewayUrl });
    await assert.rejects(global.openStream('chat'), (err: unknown) => err instanceof SkyscaleError && err.code === 'STREAM_REFUSED');
  });
});
