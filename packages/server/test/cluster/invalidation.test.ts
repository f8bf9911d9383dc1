/**
 * Caches across control processes: a key revoked through one control is refused by another, and a
 * route changed through one is served by another process's gateway, within 1 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SkyscaleClient } from '@skyscale/client';
import { clusterSkip, startCluster, type RoleProcess, type TestCluster } from '../helpers/cluster.ts';
import { adminClient } from './cluster-fixture.ts';

async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) assert.fail(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

describe('distributed mode: caches of other processes follow a change within 1 s', { skip: clusterSkip }, () => {
  let cluster: TestCluster;
  let a: RoleProcess;
  let b: RoleProcess;
  let client: SkyscaleClient;

  before(async () => {
    cluster = await startCluster();
    a = await cluster.start('control-a', 'control');
    b = await cluster.start('control-b', 'control,gateway');
    await cluster.start('worker', 'worker');
    const admin = await adminClient(a.url!);
    client = admin.client;
    await cluster.waitForWorkers(a.url!, admin.key, 1);
  });
  after(async () => cluster?.dispose());

  test('an API key revoked through one control is refused by the other', async () => {
    const extra = await client.createApiKey('short-lived');
    const onB = (): Promise<Response> => fetch(`${b.url}/api/v1/functions`, { headers: { authorization: `Bearer ${extra.key}` } });
    assert.equal((await onB()).status, 200, 'accepted (and now cached) by the other control');
    await client.revokeApiKey(extra.id);
    const took = await within(1000, async () => (await onB()).status === 401);
    assert.ok(took <= 1000, `refused after ${took} ms`);
  });

  test("a route changed through one control is served by the other process's gateway", async () => {
    const fn = await client.createFunction({ name: 'routed', runtime: 'node', code: 'export const handler = async (e) => ({ path: e.path });', routes: [{ method: 'GET', path: '/one' }] } as never);
    await within(1000, async () => (await fetch(`${b.gatewayUrl}/one`)).status === 200);
    await client.setRoutes(fn.id, { routes: [{ method: 'GET', path: '/two' }] } as never);
    const took = await within(1000, async () => (await fetch(`${b.gatewayUrl}/two`)).status === 200 && (await fetch(`${b.gatewayUrl}/one`)).status === 404);
    assert.ok(took <= 1000, `served after ${took} ms`);
  });

  test('a new version deployed through one control is what the other runs next', async () => {
    const fn = await client.createFunction({ name: 'versioned', runtime: 'node', code: 'export const handler = async () => 1;' });
    const onB = new SkyscaleClient({ endpoint: b.url!, apiKey: (await client.createApiKey('b')).key });
    assert.equal((await onB.invoke({ id: fn.id }, {})).result, 1);
    await client.updateFunction(fn.id, { name: 'versioned', runtime: 'node', code: 'export const handler = async () => 2;' } as never);
    const took = await within(1000, async () => (await onB.invoke({ id: fn.id }, {})).result === 2);
    assert.ok(took <= 1000);
  });
});
