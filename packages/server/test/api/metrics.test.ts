import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();
const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** A strict reader of the text exposition format: every line is a comment or a well-formed sample. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = sampleLine.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      labelPair.lastIndex = 0;
      let consumed = 0;
      for (let pair; (pair = labelPair.exec(m[2])) !== null; consumed = labelPair.lastIndex) labels[pair[1]] = pair[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      assert.equal(consumed, m[2].length, `bad labels in: ${line}`);
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.reduce((sum, s) => sum + s.value, 0);
}

describe('metrics', { skip }, () => {
  let p: TestPlatform;
  let admin: Record<string, string>;
  let bob: Record<string, string>;
  let carol: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1', METRICS_TOKEN, MAX_QUEUED_PER_FUNCTION: '1' });
    admin = (await p.user('admin')).auth;
    bob = (await p.user('bob')).auth;
    carol = (await p.user('carol')).auth;
  });
  after(() => p.close());

  const deploy = async (auth: Record<string, string>, payload: object) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { runtime: 'node', ...payload } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; name: string };
  };
  const invoke = (auth: Record<string, string>, name: string, event: object = {}) =>
    p.api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke`, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(event) });
  const scrape = async (headers: Record<string, string> = { authorization: `Bearer ${METRICS_TOKEN}` }) => {
    const res = await p.api.inject({ method: 'GET', url: '/metrics', headers });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return parseExposition(res.body);
  };

  test('GET /metrics/workers lists only your own instances; admins see all and the worker totals', async () => {
    const code = 'export const handler = () => "hi";';
    const bobFn = await deploy(bob, { name: 'bob-fn', code });
    const carolFn = await deploy(carol, { name: 'carol-fn', code });
    const bobInstance = (await invoke(bob, 'bob-fn')).json().instanceId as string;
    const carolInstance = (await invoke(carol, 'carol-fn')).json().instanceId as string;

    for (const url of ['/api/v1/metrics/workers', '/api/metrics/workers']) {
      const view = (await p.api.inject({ method: 'GET', url, headers: bob })).json();
      assert.deepEqual(view.instances.map((i: { id: string }) => i.id), [bobInstance], url);
      assert.equal(view.instances[0].functionId, bobFn.id);
      assert.equal(view.instances[0].functionName, 'bob-fn');
      assert.equal(view.workers, null);
      assert.equal(view.sampler, null);
      assert.deepEqual(view.settings.weights, { cpu: 0.5, memory: 0.3, io: 0.2 });
    }
    const carolView = (await p.api.inject({ method: 'GET', url: '/api/v1/metrics/workers', headers: carol })).json();
    assert.deepEqual(carolView.instances.map((i: { id: string }) => i.id), [carolInstance]);

    // Once sampled, an instance shows raw readings, utilisations, EMA and a score.
    const sampled = await (async () => {
      for (let n = 0; n < 100; n++) {
        const view = (await p.api.inject({ method: 'GET', url: '/api/v1/metrics/workers', headers: admin })).json();
        if (view.instances.every((i: { ema: unknown }) => i.ema !== null) && view.workers[0].ema !== null) return view;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail('instances were never sampled');
    })();
    const ids = sampled.instances.map((i: { id: string }) => i.id);
    assert.ok(ids.includes(bobInstance) && ids.includes(carolInstance), 'admins see every user\'s instances');
    const carolLoad = sampled.instances.find((i: { id: string }) => i.id === carolInstance);
    assert.equal(carolLoad.functionId, carolFn.id);
    assert.equal(carolLoad.runtime, 'node');
    assert.ok(carolLoad.raw.memoryBytes > 0 && carolLoad.raw.memoryLimitBytes === 128 * 1024 * 1024, JSON.stringify(carolLoad.raw));
    for (const k of ['cpu', 'memory', 'io']) assert.ok(carolLoad.ema[k] >= 0 && carolLoad.ema[k] <= 1, k);
    const w = sampled.settings.weights;
    assert.ok(Math.abs(carolLoad.score - (w.cpu * carolLoad.ema.cpu + w.memory * carolLoad.ema.memory + w.io * carolLoad.ema.io)) < 1e-9);
    const [worker] = sampled.workers;
    assert.equal(worker.instances >= 2, true);
    assert.ok(worker.raw.memoryBytes > carolLoad.raw.memoryBytes, 'the worker total includes the platform process and every instance');
    assert.ok(sampled.sampler.ticks > 0 && sampled.sampler.meanTickMs >= 0);

    assert.equal((await p.api.inject({ method: 'GET', url: '/api/v1/metrics/workers' })).statusCode, 401);
  });

  test('GET /metrics: admins and METRICS_TOKEN may read it, users and anonymous callers may not', async () => {
    assert.equal((await p.api.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    const asUser = await p.api.inject({ method: 'GET', url: '/metrics', headers: bob });
    assert.equal(asUser.statusCode, 403);
    assert.equal(errorCode(asUser), 'FORBIDDEN');
    assert.equal((await p.api.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).statusCode, 401);
    await scrape(admin);
    await scrape({ 'x-api-key': METRICS_TOKEN });
    const { types } = await scrape();
    assert.equal(types.get('skyscale_invocations_total'), 'counter');
    assert.equal(types.get('skyscale_invocation_duration_seconds'), 'histogram');
    assert.equal(types.get('process_cpu_user_seconds_total'), 'counter', 'process metrics are exported');
    assert.equal(types.get('nodejs_eventloop_lag_seconds'), 'gauge');
    const spec = (await p.api.inject({ method: 'GET', url: '/docs/json' })).json();
    assert.ok(spec.paths['/metrics']?.get, 'OpenAPI lists /metrics');
    const workers = spec.paths['/api/v1/metrics/workers']?.get?.responses?.['200'];
    assert.ok(workers?.content?.['application/json']?.schema?.properties?.instances, 'OpenAPI describes /api/v1/metrics/workers');
  });

  test('GET /metrics counts invocations, errors, cold starts and durations as the execution records do', async () => {
    const fn = await deploy(bob, { name: 'counted', code: 'export const handler = (e) => { if (e.fail) throw new Error("nope"); return 1; };' });
    for (const event of [{}, {}, { fail: true }, {}, { fail: true }]) assert.equal((await invoke(bob, 'counted', event)).statusCode, 200);
    const queued = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.id}/invoke?async=true`, headers: { ...bob, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(queued.statusCode, 202, queued.body);
    const asyncId = queued.json().id as string;
    for (let n = 0; n < 200; n++) {
      const e = (await p.api.inject({ method: 'GET', url: `/api/executions/${asyncId}`, headers: bob })).json();
      if (e.status === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 50));
    }

    const { samples } = await scrape();
    const labels = { function: 'counted', function_id: fn.id };
    assert.equal(value(samples, 'skyscale_invocations_total', { ...labels, mode: 'sync', status: 'succeeded', runtime: 'node' }), 3);
    assert.equal(value(samples, 'skyscale_invocations_total', { ...labels, mode: 'sync', status: 'failed' }), 2);
    assert.equal(value(samples, 'skyscale_invocations_total', { ...labels, mode: 'async', status: 'succeeded' }), 1);
    assert.equal(value(samples, 'skyscale_invocation_errors_total', { ...labels, mode: 'sync', status: 'failed', reason: 'user_error' }), 2);
    assert.equal(value(samples, 'skyscale_invocation_errors_total', { ...labels, mode: 'async' }), 0);
    assert.equal(value(samples, 'skyscale_instances', { ...labels, state: 'ready' }), 1);

    // The execution records carry the same cold-start flags and durations.
    const records = (await p.api.inject({ method: 'GET', url: `/api/executions?functionId=${fn.id}`, headers: bob })).json().items as Array<{ coldStart: boolean; durationMs: number; mode: string }>;
    assert.equal(records.length, 6);
    const cold = records.filter((r) => r.coldStart).length;
    assert.equal(cold, 1);
    assert.equal(value(samples, 'skyscale_cold_starts_total', labels), cold);
    assert.equal(value(samples, 'skyscale_invocation_duration_seconds_count', { ...labels, start: 'cold' }), cold);
    assert.equal(value(samples, 'skyscale_invocation_duration_seconds_count', { ...labels, mode: 'sync' }), 5);
    const recordedSeconds = records.reduce((sum, r) => sum + r.durationMs, 0) / 1000;
    assert.ok(Math.abs(value(samples, 'skyscale_invocation_duration_seconds_sum', labels) - recordedSeconds) < 0.001);
    // Buckets are cumulative and +Inf holds every observation.
    const buckets = samples.filter((s) => s.name === 'skyscale_invocation_duration_seconds_bucket' && s.labels.function_id === fn.id && s.labels.mode === 'sync' && s.labels.start === 'warm');
    for (let n = 1; n < buckets.length; n++) assert.ok(buckets[n].value >= buckets[n - 1].value);
    assert.equal(buckets.at(-1)?.labels.le, '+Inf');
    assert.equal(buckets.at(-1)?.value, 4);
  });

  test('a dead-lettered async execution is counted once, after its last attempt', async () => {
    const fn = await deploy(bob, { name: 'doomed', maxAttempts: 2, code: 'export const handler = () => { throw new Error("nope"); };' });
    const queued = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.id}/invoke?async=true`, headers: { ...bob, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(queued.statusCode, 202, queued.body);
    let status = '';
    for (let n = 0; n < 400 && status !== 'dead_lettered'; n++) {
      status = (await p.api.inject({ method: 'GET', url: `/api/executions/${queued.json().id}`, headers: bob })).json().status;
      if (status !== 'dead_lettered') await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(status, 'dead_lettered');
    const { samples, types } = await scrape();
    const labels = { function: 'doomed', function_id: fn.id };
    assert.equal(types.get('skyscale_dead_lettered_total'), 'counter');
    assert.equal(value(samples, 'skyscale_dead_lettered_total', labels), 1);
    assert.equal(value(samples, 'skyscale_invocations_total', { ...labels, mode: 'async', status: 'failed' }), 2, 'both attempts are counted');
  });

  test('queue depth and rejections: a waiting invocation is a waiter, one past MAX_QUEUED_PER_FUNCTION is counted as rejected', async () => {
    const fn = await deploy(bob, { name: 'narrow', maxInstances: 1, code: 'export const handler = (e) => new Promise((r) => setTimeout(() => r(1), e.ms ?? 0));' });
    const labels = { function: 'narrow', function_id: fn.id };
    const scrapeUntil = async (what: string, ok: (samples: Sample[]) => boolean) => {
      for (let n = 0; n < 200; n++) {
        if (ok((await scrape()).samples)) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.fail(`timed out waiting for ${what}`);
    };
    await invoke(bob, 'narrow');
    const running = invoke(bob, 'narrow', { ms: 2000 });
    await scrapeUntil('one in flight', (samples) => value(samples, 'skyscale_invocations_in_flight', labels) === 1);
    const waiting = invoke(bob, 'narrow', { ms: 1 });
    await scrapeUntil('one waiter', (samples) => value(samples, 'skyscale_queue_waiters', labels) === 1);
    const refused = await invoke(bob, 'narrow');
    assert.equal(refused.statusCode, 429);
    assert.equal((await running).statusCode, 200);
    assert.equal((await waiting).statusCode, 200);
    const after = (await scrape()).samples;
    assert.equal(value(after, 'skyscale_invocations_rejected_total', { ...labels, mode: 'sync', reason: 'queue_full' }), 1);
    assert.equal(value(after, 'skyscale_queue_waiters', labels), 0);
    assert.equal(value(after, 'skyscale_invocations_total', labels), 3);
    assert.equal(value(after, 'skyscale_async_queued', {}), 0);
  });
});

test('METRICS_ACCESS=loopback opens /metrics to loopback clients only', { skip }, async () => {
  const p = await testPlatform({ WARM_POOL_SIZE: '0', METRICS_ACCESS: 'loopback' });
  try {
    assert.equal((await p.api.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 200);
    assert.equal((await p.api.inject({ method: 'GET', url: '/metrics', remoteAddress: '::1' })).statusCode, 200);
    assert.equal((await p.api.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' })).statusCode, 401);
  } finally {
    await p.close();
  }
});
