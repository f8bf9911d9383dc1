import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openStore } from '../../src/store/index.ts';
import { checkRoute } from '../../src/functions/route-pattern.ts';
import { testPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();

/** Polls until `check` holds; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

test('a route change written by another connection (no event on this process\'s bus) reaches the gateway within 5 s', { skip }, async (t) => {
  const p = await testPlatform({ WARM_POOL_SIZE: '1' });
  // Another writer of the same database: it changes routes in the store and tells nobody.
  const other = await openStore({ kind: 'sqlite', path: path.join(p.dataDir, 'skyscale.db') });
  try {
    const { id: ownerId, auth } = await p.user('mp');
    const status = (url: string) => fetch(url).then((r) => r.status);
    const fn = (await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'shared', runtime: 'node', code: 'export const handler = (e) => ({ via: e.path });', routes: [{ method: 'GET', path: '/shared' }] } })).json();
    assert.equal(await status(`${p.gatewayUrl}/shared`), 200, 'at once in the process that made the change');

    const route = (routePath: string) => checkRoute({ method: 'GET', path: routePath });
    assert.ok(await other.routes.setExposure(ownerId, fn.id, { routes: [route('/moved')], public: true }, new Date().toISOString()));
    const moved = await within(5000, async () => (await status(`${p.gatewayUrl}/moved`)) === 200 && (await status(`${p.gatewayUrl}/shared`)) === 404);
    assert.equal(await status(`${p.gatewayUrl}/function/shared`), 200, 'public names propagate with the same generation');

    assert.ok(await other.routes.setExposure(ownerId, fn.id, { routes: [], public: false }, new Date().toISOString()));
    const removed = await within(5000, async () => (await status(`${p.gatewayUrl}/moved`)) === 404);
    t.diagnostic(`seen by the gateway after ${moved} ms (changed), ${removed} ms (removed)`);
  } finally {
    await other.close();
    await p.close();
  }
});
