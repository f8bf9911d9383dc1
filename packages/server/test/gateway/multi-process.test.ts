import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startSkyscale } from '../helpers/server-process.ts';
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

test('two platform processes on one data dir: a route change made through one reaches the other\'s gateway within 5 s', { skip }, async (t) => {
  const a = await startSkyscale({ WARM_POOL_SIZE: '1' });
  const b = await startSkyscale({ WARM_POOL_SIZE: '1' }, { dataDir: a.dataDir });
  try {
    const post = async (url: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') => {
      const res = await fetch(a.url + url, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      assert.ok(res.ok, `${url}: ${res.status} ${await res.clone().text()}`);
      return res.json();
    };
    await post('/auth/register', { username: 'mp', password: 'correct horse battery' });
    const { token } = await post('/auth/login', { username: 'mp', password: 'correct horse battery' });
    const auth = { authorization: `Bearer ${token}` };
    const status = (url: string) => fetch(url).then((r) => r.status);

    const fn = await post('/api/functions', { name: 'shared', runtime: 'node', code: 'export const handler = (e) => ({ via: e.path });', routes: [{ method: 'GET', path: '/shared' }] }, auth);
    assert.equal(await status(`${a.gatewayUrl}/shared`), 200, 'at once in the process that made the change');
    const added = await within(5000, async () => (await status(`${b.gatewayUrl}/shared`)) === 200);

    await post(`/api/functions/${fn.id}`, { routes: [{ method: 'GET', path: '/moved' }], public: true }, auth, 'PUT');
    assert.equal(await status(`${a.gatewayUrl}/shared`), 404);
    const moved = await within(5000, async () => (await status(`${b.gatewayUrl}/moved`)) === 200 && (await status(`${b.gatewayUrl}/shared`)) === 404);
    assert.equal(await status(`${b.gatewayUrl}/function/shared`), 200, 'public names propagate with the same generation');

    await fetch(`${a.url}/api/functions/${fn.id}`, { method: 'DELETE', headers: auth });
    const deleted = await within(5000, async () => (await status(`${b.gatewayUrl}/moved`)) === 404);
    t.diagnostic(`seen by the other process after ${added} ms (added), ${moved} ms (changed), ${deleted} ms (deleted)`);
  } finally {
    await b.stop();
    await a.stop();
    rmSync(a.dataDir, { recursive: true, force: true });
  }
});
