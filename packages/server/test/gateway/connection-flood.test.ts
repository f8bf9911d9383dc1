import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { destroyAllRaw, openRaw, rawRequest, type RawConnection } from '../helpers/raw-client.ts';

// Issue 11, point 4: one client opening ~20,000 idle connections exhausted the platform's descriptors.
// Every 127.0.0.0/8 address reaches the loopback interface, so each "client" here has its own address.
const PER_PORT = 40;
const PER_ADDRESS = 15;

const HEALTH = { api: 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n', gateway: 'GET /_skyscale/healthz HTTP/1.1\r\nhost: x\r\n\r\n' };

describe('connection caps per port and per client address', () => {
  let p: TestPlatform;
  let ports: { api: number; gateway: number };

  before(async () => {
    p = await testPlatform({ HTTP_MAX_CONNECTIONS: String(PER_PORT), HTTP_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS), WARM_POOL_SIZE: '0' }, { listen: true });
    ports = { api: p.port!, gateway: Number(new URL(p.gatewayUrl).port) };
  });
  after(async () => {
    destroyAllRaw();
    await p.close();
  });

  const flood = (port: number, count: number, localAddress: string): Promise<RawConnection[]> => Promise.all(Array.from({ length: count }, () => openRaw(port, { localAddress })));
  const stillOpen = (connections: RawConnection[]): number => connections.filter((c) => !c.isClosed()).length;

  for (const plane of ['api', 'gateway'] as const) {
    test(`${plane}: one address gets ${PER_ADDRESS} connections, the rest are refused at once, and other clients are served`, async () => {
      const existing = await openRaw(ports[plane], { localAddress: '127.0.0.1' });
      assert.equal((await rawRequest(existing, HEALTH[plane])).status, 200);
      const attack = await flood(ports[plane], 3 * PER_ADDRESS, '127.0.0.2');
      await sleep(300);
      assert.equal(stillOpen(attack), PER_ADDRESS);
      const refused = attack.find((c) => c.isClosed())!;
      assert.match(refused.received(), /^HTTP\/1\.1 429 [^]*"code":"TOO_MANY_CONNECTIONS"/);
      assert.equal((await rawRequest(existing, HEALTH[plane])).status, 200, 'a client connected before the flood is still served');
      const other = await openRaw(ports[plane], { localAddress: '127.0.0.3' });
      assert.equal((await rawRequest(other, HEALTH[plane])).status, 200, 'a client from another address is served');
      for (const c of [existing, other, ...attack]) c.socket.destroy();
    });

    test(`${plane}: at most ${PER_PORT} connections at once; once the flood ends new ones are served`, async () => {
      const existing = await openRaw(ports[plane], { localAddress: '127.0.0.1' });
      assert.equal((await rawRequest(existing, HEALTH[plane])).status, 200);
      const attack = (await Promise.all([10, 11, 12, 13].map((n) => flood(ports[plane], PER_ADDRESS, `127.0.0.${n}`)))).flat();
      await sleep(300);
      assert.equal(stillOpen(attack), PER_PORT - 1, 'the port holds its cap, the existing connection included');
      assert.equal((await rawRequest(existing, HEALTH[plane])).status, 200, 'a client connected before the flood is still served');
      for (const c of attack) c.socket.destroy();
      await sleep(200);
      const after = await openRaw(ports[plane], { localAddress: '127.0.0.20' });
      assert.equal((await rawRequest(after, HEALTH[plane])).status, 200);
      for (const c of [existing, after]) c.socket.destroy();
    });
  }
});
