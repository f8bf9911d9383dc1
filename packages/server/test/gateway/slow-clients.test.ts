import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';
import { closedWithin, destroyAllRaw, openRaw, rawRequest, trickle, type RawConnection } from '../helpers/raw-client.ts';

// Issue 11, point 4: slow-header, slow-body and idle connections stayed open for minutes, and a
// client that never read its response held it forever. Short timeouts here; the defaults are in docs/limits.md.
const HEADERS_MS = 1000;
const REQUEST_MS = 2000;
const KEEPALIVE_MS = 1000;
const SEND_MS = 1000;
const SLACK_MS = 1500;

const skip = sandboxSkipReason();

describe('slow clients on the control API and the gateway', { skip }, () => {
  let p: TestPlatform;
  let auth: Record<string, string>;
  let apiPort: number;
  let gatewayPort: number;
  let fnId: string;

  before(async () => {
    p = await testPlatform({ HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS), HTTP_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_MS), HTTP_SEND_TIMEOUT_MS: String(SEND_MS), WARM_POOL_SIZE: '0' }, { listen: true });
    auth = (await p.user('slowpoke')).auth;
    apiPort = p.port!;
    gatewayPort = Number(new URL(p.gatewayUrl).port);
    // A body of ~5.5 MB: more than loopback's socket buffers take in when the client does not read.
    const code = "export const handler = (event) => event.method === 'GET' ? { statusCode: 200, body: 'x'.repeat(5_500_000) } : { ok: true };";
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'big', runtime: 'node', code, routes: [{ method: 'ANY', path: '/big' }] } });
    assert.equal(res.statusCode, 201, res.body);
    fnId = res.json().id;
  });
  after(async () => {
    destroyAllRaw();
    await p.close();
  });

  test('slow headers, slow bodies and idle connections are cut within their timeouts, on both ports', async (t) => {
    const body = 'x'.repeat(10_000);
    const slowBody = (port: number, head: string): Promise<RawConnection> => openRaw(port).then((c) => {
      c.socket.write(`${head}content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      trickle(c, body, 100);
      return c;
    });
    const slowHead = (port: number): Promise<RawConnection> => openRaw(port).then((c) => {
      c.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n');
      trickle(c, 'x-slow: '.padEnd(10_000, 'a'), 100);
      return c;
    });
    const keptAlive = async (port: number, path: string): Promise<RawConnection> => {
      const c = await openRaw(port);
      assert.equal((await rawRequest(c, `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`)).status, 200);
      return c;
    };
    const cases: Array<[string, Promise<RawConnection>, number]> = [
      ['API: idle, nothing sent', openRaw(apiPort), HEADERS_MS],
      ['gateway: idle, nothing sent', openRaw(gatewayPort), HEADERS_MS],
      ['API: slow headers', slowHead(apiPort), HEADERS_MS],
      ['gateway: slow headers', slowHead(gatewayPort), HEADERS_MS],
      ['API: slow body on login', slowBody(apiPort, 'POST /auth/login HTTP/1.1\r\nhost: x\r\n'), REQUEST_MS],
      ['API: slow body on invoke', slowBody(apiPort, `POST /api/functions/${fnId}/invoke HTTP/1.1\r\nhost: x\r\nauthorization: ${auth.authorization}\r\n`), REQUEST_MS],
      ['gateway: slow body on a route', slowBody(gatewayPort, 'POST /big HTTP/1.1\r\nhost: x\r\n'), REQUEST_MS],
      ['API: idle keep-alive', keptAlive(apiPort, '/healthz'), KEEPALIVE_MS],
      ['gateway: idle keep-alive', keptAlive(gatewayPort, '/_skyscale/healthz'), KEEPALIVE_MS],
    ];
    const connections = await Promise.all(cases.map(([, c]) => c));
    const started = Date.now();
    const times = await closedWithin(connections, REQUEST_MS + SLACK_MS + 1000);
    const late = cases.flatMap(([name, , limit], n) => (times[n] === undefined || times[n]! > limit + SLACK_MS + 1000 ? [`${name}: ${times[n] ?? `still open after ${Date.now() - started} ms`}`] : []));
    for (const c of connections) c.socket.destroy();
    t.diagnostic(cases.map(([name], n) => `${name}: closed after ${times[n] ?? '-'} ms`).join('; '));
    assert.deepEqual(late, []);
  });

  test('a client that does not read its response is cut once the write has not drained for HTTP_SEND_TIMEOUT_MS, on both ports', async (t) => {
    const object = Buffer.alloc(48 * 1024 * 1024, 7);
    const put = await p.api.inject({ method: 'PUT', url: `/api/function-objects/${fnId}/big.bin`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: object });
    assert.equal(put.statusCode, 200, put.body);
    // Warm the function, so the gateway answers at once.
    assert.equal((await fetch(`${p.gatewayUrl}/big`, { method: 'POST' })).status, 200);

    const api = await openRaw(apiPort, { paused: true });
    api.socket.write(`GET /api/function-objects/${fnId}/big.bin HTTP/1.1\r\nhost: x\r\nauthorization: ${auth.authorization}\r\n\r\n`);
    const gateway = await openRaw(gatewayPort, { paused: true });
    gateway.socket.write('GET /big HTTP/1.1\r\nhost: x\r\n\r\n');
    await sleep(SEND_MS + SLACK_MS + 1000);
    // Reading now gets what the kernel had buffered, then the end: the rest was never sent.
    api.socket.resume();
    gateway.socket.resume();
    const [apiClosed, gatewayClosed] = await closedWithin([api, gateway], 5000);
    const got = { api: api.bytes(), gateway: gateway.bytes() };
    t.diagnostic(`the API sent ${got.api} of ${object.length} bytes, the gateway ${got.gateway} of 5500000`);
    api.socket.destroy();
    gateway.socket.destroy();
    assert.ok(apiClosed !== undefined && got.api < object.length, `the API sent ${got.api} of ${object.length} bytes and ${apiClosed === undefined ? 'kept the connection' : 'closed'}`);
    assert.ok(gatewayClosed !== undefined && got.gateway < 5_500_000, `the gateway sent ${got.gateway} of 5500000 bytes and ${gatewayClosed === undefined ? 'kept the connection' : 'closed'}`);
  });

  test('a client that reads slowly but steadily gets the whole object', async () => {
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/function-objects/${fnId}/big.bin`, { headers: auth });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      // ~16 MB/s: each chunk drains well within the send timeout.
      if (bytes % (1024 * 1024) < value.length) await sleep(60);
    }
    assert.equal(bytes, 48 * 1024 * 1024);
  });
});
