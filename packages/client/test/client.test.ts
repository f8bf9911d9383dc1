import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { SkyscaleClient, SkyscaleError } from '../src/index.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];
let reply: (req: Seen) => { status: number; body?: unknown } = () => ({ status: 200, body: {} });

before(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    seen.push(s);
    const { status, body } = reply(s);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('sends the API key as a bearer token and JSON bodies', async () => {
  reply = () => ({ status: 201, body: { id: 'f1', name: 'hello' } });
  const client = new SkyscaleClient({ endpoint, apiKey: 'sk_test' });
  const fn = await client.createFunction({ name: 'hello', runtime: 'node', code: 'x' });
  assert.equal(fn.id, 'f1');
  const last = seen.at(-1)!;
  assert.equal(last.method, 'POST');
  assert.equal(last.url, '/api/functions');
  assert.equal(last.headers.authorization, 'Bearer sk_test');
  assert.equal(last.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(last.body.toString()), { name: 'hello', runtime: 'node', code: 'x' });
});

test('names are URL-encoded; async invocations set the headers', async () => {
  reply = () => ({ status: 202, body: { id: 'e1', status: 'queued' } });
  const client = new SkyscaleClient({ endpoint, token: 'jwt' });
  const queued = await client.invokeAsync({ name: 'café/x' }, { a: 1 }, { idempotencyKey: 'k-1' });
  assert.equal(queued.status, 'queued');
  const last = seen.at(-1)!;
  assert.equal(last.url, '/api/functions/name/caf%C3%A9%2Fx/invoke');
  assert.equal(last.headers['x-invocation-type'], 'async');
  assert.equal(last.headers['idempotency-key'], 'k-1');
  assert.equal(last.headers.authorization, 'Bearer jwt');
});

test('query parameters skip undefined values', async () => {
  reply = () => ({ status: 200, body: { items: [], nextCursor: null } });
  await new SkyscaleClient({ endpoint }).listExecutions({ status: 'failed', limit: 5, cursor: undefined });
  assert.equal(seen.at(-1)!.url, '/api/executions?status=failed&limit=5');
});

test('bundles go as multipart with metadata and the file', async () => {
  reply = () => ({ status: 201, body: { id: 'f2' } });
  await new SkyscaleClient({ endpoint }).deployBundle({ name: 'b', runtime: 'python' }, new Uint8Array([0x1f, 0x8b, 1, 2]));
  const last = seen.at(-1)!;
  assert.match(String(last.headers['content-type']), /^multipart\/form-data; boundary=/);
  const text = last.body.toString('latin1');
  assert.match(text, /name="metadata"\r\n\r\n\{"name":"b","runtime":"python"\}/);
  assert.match(text, /name="bundle"; filename="code.tar.gz"/);
});

test('API errors become SkyscaleError with status, code and request id; 204 is undefined', async () => {
  reply = () => ({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'Function not found', requestId: 'r-1' } } });
  const client = new SkyscaleClient({ endpoint });
  await assert.rejects(client.getFunction('nope'), (err: unknown) => err instanceof SkyscaleError && err.status === 404 && err.code === 'NOT_FOUND' && err.requestId === 'r-1' && err.message === 'Function not found');
  reply = () => ({ status: 502, body: 'not our shape' });
  await assert.rejects(client.health(), (err: unknown) => err instanceof SkyscaleError && err.code === 'HTTP_502');
  reply = () => ({ status: 204 });
  assert.equal(await client.deleteFunction('x'), undefined);
});

test('an unreachable server is a NETWORK_ERROR', async () => {
  const client = new SkyscaleClient({ endpoint: 'http://127.0.0.1:1' });
  await assert.rejects(client.health(), (err: unknown) => err instanceof SkyscaleError && err.code === 'NETWORK_ERROR' && err.status === 0);
});
