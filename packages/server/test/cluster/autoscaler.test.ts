/**
 * The autoscaler with its local actuator, for real: a control process that starts and drains
 * `skyscale serve --role worker` processes as a burst of 500 async executions comes and goes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { SkyscaleClient } from '@skyscale/client';
import { clusterSkip, startCluster, type RoleProcess, type TestCluster } from '../helpers/cluster.ts';
import { adminClient } from './cluster-fixture.ts';

const BURST = 500;
const MIN = 1;
const MAX = 3;

describe('the autoscaler with local worker processes', { skip: clusterSkip }, () => {
  let cluster: TestCluster;
  let control: RoleProcess;
  let client: SkyscaleClient;

  before(async () => {
    cluster = await startCluster({
      AUTOSCALER_ACTUATOR: 'local', MIN_WORKERS: String(MIN), MAX_WORKERS: String(MAX), SCALE_UP_THRESHOLD: '3', SCALE_DOWN_THRESHOLD: '1',
      CHECK_INTERVAL: '500ms', COOLDOWN_PERIOD: '3s', MAX_CONCURRENT_EXECUTIONS: '4', WARM_POOL_SIZE: '0',
    });
    control = await cluster.start('scaler', 'control,gateway', { WORKER_ID: 'local', LOG_LEVEL: 'info' });
    client = (await adminClient(control.url!, control.gatewayUrl)).client;
  });
  after(async () => cluster?.dispose());

  test(`a burst of ${BURST} scales up to MAX_WORKERS, back down to MIN_WORKERS after the cooldown; nothing lost or run twice`, { timeout: 300_000 }, async (t) => {
    const ready = async (): Promise<number> => (await client.listWorkers()).filter((w) => w.state === 'ready' && w.roles.includes('worker')).length;
    const t0 = Date.now();
    while ((await ready()) < MIN) {
      assert.ok(Date.now() - t0 < 30_000, `MIN_WORKERS started\n${control.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.createFunction({ name: 'work', runtime: 'node', code: 'export const handler = async (e) => { await new Promise((r) => setTimeout(r, 300)); return e.i; };' });
    const ids: string[] = [];
    for (let i = 0; i < BURST; i += 50) ids.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => client.invokeAsync({ name: 'work' }, { i: i + j }).then((q) => q.id)))));
    const burstAt = Date.now();
    let peak = 0;
    let reachedMaxAt: number | undefined;
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    const timeline: string[] = [];
    const note = (line: string): void => void timeline.push(`${((Date.now() - burstAt) / 1000).toFixed(1)}s ${line}`);
    try {
      for (;;) {
        const n = await ready();
        if (n > MAX) note(JSON.stringify((await client.listWorkers()).map((w) => [w.id, w.state, w.lastHeartbeatAt, w.pid])));
        peak = Math.max(peak, n);
        if (n >= MAX) reachedMaxAt ??= Date.now();
        const { rows } = await db.query<{ open: string }>("select count(*) as open from executions where id = any($1) and status in ('queued', 'running')", [ids]);
        if (timeline.length === 0 || !timeline.at(-1)!.endsWith(`ready ${n}, open ${rows[0].open}`)) note(`ready ${n}, open ${rows[0].open}`);
        if (Number(rows[0].open) === 0) break;
        assert.ok(Date.now() - burstAt < 180_000, `the burst drained\n${timeline.slice(-30).join('\n')}\n`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const drainedAt = Date.now();
      assert.equal(peak, MAX, `scaled up to MAX_WORKERS (peak ${peak})`);
      const { rows } = await db.query<{ status: string; n: string; runs: string }>('select status, count(*) as n, sum(attempts) as runs from executions where id = any($1) group by status', [ids]);
      assert.deepEqual(rows.map((r) => [r.status, Number(r.n)]), [['succeeded', BURST]], 'every execution succeeded');
      assert.equal(Number(rows[0].runs), BURST, 'each ran once: no attempt was repeated');
      while ((await ready()) > MIN) {
        assert.ok(Date.now() - drainedAt < 60_000, `scaled back down to MIN_WORKERS\n${timeline.slice(-30).join('\n')}\n`);
        await new Promise((r) => setTimeout(r, 200));
      }
      console.log(`# autoscaler: ${BURST} executions; MAX_WORKERS reached ${reachedMaxAt! - burstAt} ms after the burst; drained ${drainedAt - burstAt} ms; back to MIN_WORKERS ${Date.now() - drainedAt} ms after draining`);
    } catch (err) {
      t.diagnostic(timeline.join('\n'));
      t.diagnostic(control.output().split('\n').filter((l) => !/incoming request|request completed/.test(l)).join('\n').slice(-8000));
      throw err;
    } finally {
      await db.end();
    }
  });
});
