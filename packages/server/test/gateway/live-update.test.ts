import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

async function withPlatform(env: Record<string, string>, body: (p: TestPlatform, auth: Record<string, string>) => Promise<void>): Promise<void> {
  const p = await testPlatform(env);
  try {
    await body(p, (await p.user('alice')).auth);
  } finally {
    await p.close();
  }
}

describe('gateway under change and load', { skip }, () => {
  test('routes change through the API while requests flow: every request succeeds against the old or the new table', async (t) => {
    await withPlatform({ WARM_POOL_SIZE: '2' }, async (p, alice) => {
      const code = (v: string) => `export const handler = async () => { await new Promise((r) => setTimeout(r, 2)); return "${v}"; };`;
      const routes = (extra: string) => [{ method: 'GET', path: '/live' }, { method: 'GET', path: extra }];
      const created = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'live', runtime: 'node', code: code('v0'), concurrency: 16, maxInstances: 2, routes: routes('/a') } });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id;
      assert.equal((await fetch(`${p.gatewayUrl}/live`)).status, 200);

      const outcomes = new Map<string, number>();
      let stop = false;
      const fire = async () => {
        while (!stop) {
          let key: string;
          try {
            const res = await fetch(`${p.gatewayUrl}/live`);
            key = `${res.status} ${await res.text()}`;
          } catch (err) {
            key = `error ${(err as Error).message}`;
          }
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      };
      const clients = Array.from({ length: 8 }, fire);
      // Odd changes deploy new code with the routes (a new version); even ones change the routes alone.
      for (let i = 1; i <= 10; i++) {
        const extra = i % 2 === 0 ? '/a' : '/b';
        const res = i % 2 === 1
          ? await p.api.inject({ method: 'PUT', url: `/api/functions/${id}`, headers: alice, payload: { code: code(`v${i}`), routes: routes(extra) } })
          : await p.api.inject({ method: 'PUT', url: `/api/functions/${id}/routes`, headers: alice, payload: { routes: routes(extra) } });
        assert.equal(res.statusCode, 200, res.body);
        // In effect as soon as the API has answered: the new route serves, the dropped one is gone.
        assert.equal((await fetch(`${p.gatewayUrl}${extra}`)).status, 200);
        assert.equal((await fetch(`${p.gatewayUrl}${extra === '/a' ? '/b' : '/a'}`)).status, 404);
        await new Promise((r) => setTimeout(r, 100));
      }
      stop = true;
      await Promise.all(clients);
      const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
      t.diagnostic(`${total} requests during 10 route changes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
      const bad = [...outcomes].filter(([key]) => !/^200 "v\d+"$/.test(key));
      assert.deepEqual(bad, [], `every request must succeed (${total} sent)`);
      assert.ok(total >= 100, `enough requests flowed during the changes (${total})`);
      assert.ok(outcomes.has('200 "v9"'), 'the last version served');
    });
  });

  test('a throttled invocation answers 429 with Retry-After', async () => {
    await withPlatform({ WARM_POOL_SIZE: '1', MAX_QUEUED_PER_FUNCTION: '0' }, async (p, alice) => {
      const created = await p.api.inject({
        method: 'POST', url: '/api/functions', headers: alice,
        payload: { name: 'busy', runtime: 'node', code: 'export const handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return 1; };', concurrency: 1, maxInstances: 1, routes: [{ method: 'GET', path: '/busy' }] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const first = fetch(`${p.gatewayUrl}/busy`);
      await new Promise((r) => setTimeout(r, 300));
      const second = await fetch(`${p.gatewayUrl}/busy`);
      assert.equal(second.status, 429);
      assert.equal(second.headers.get('retry-after'), '1');
      assert.equal((await second.json()).error.code, 'RATE_LIMITED');
      assert.equal((await first).status, 200);
    });
  });
});
