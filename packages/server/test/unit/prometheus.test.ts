import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts';

const idle = {
  instances: () => [],
  stemCells: () => [],
  waiting: () => [],
  asyncQueued: async () => 7,
  worker: () => ({ utilisation: null, score: 0 }),
  sampler: () => ({ ticks: 3, totalMs: 1.5 }),
};

test('route-level requests (the gateway\'s interface) are counted by route pattern and timed', async () => {
  const m = new PrometheusMetrics(idle);
  m.request({ plane: 'gateway', route: '/api/hello', method: 'POST', statusCode: 200, durationMs: 3 });
  m.request({ plane: 'gateway', route: '/api/hello', method: 'POST', statusCode: 200, durationMs: 30 });
  m.request({ plane: 'gateway', route: '/api/hello', method: 'POST', statusCode: 502, durationMs: 1 });
  const { body } = await m.exposition();
  assert.match(body, /^skyscale_http_requests_total\{plane="gateway",route="\/api\/hello",method="POST",status="200"\} 2$/m);
  assert.match(body, /^skyscale_http_requests_total\{plane="gateway",route="\/api\/hello",method="POST",status="502"\} 1$/m);
  assert.match(body, /^skyscale_http_request_duration_seconds_count\{plane="gateway",route="\/api\/hello",method="POST"\} 3$/m);
  assert.match(body, /^skyscale_http_request_duration_seconds_bucket\{le="0.005",plane="gateway",route="\/api\/hello",method="POST"\} 2$/m);
  assert.match(body, /^skyscale_async_queued 7$/m);
  assert.match(body, /^skyscale_load_sampler_ticks_total 3$/m);
  assert.doesNotMatch(body, / Nan$/m, 'NaN is spelled as the format says');
});

test('label values are escaped, and a function\'s samples stay apart per status, mode and start', async () => {
  const m = new PrometheusMetrics(idle);
  const base = { functionId: 'f1', functionName: 'say "hi"\\now', runtime: 'python', errorReason: null, durationMs: 5, coldStart: false } as const;
  m.invocation({ ...base, mode: 'http', status: 'succeeded', coldStart: true });
  m.invocation({ ...base, mode: 'http', status: 'succeeded' });
  m.invocation({ ...base, mode: 'stream', status: 'timed_out', errorReason: 'timeout' });
  const { body } = await m.exposition();
  const fn = 'function="say \\"hi\\"\\\\now",function_id="f1"';
  assert.ok(body.includes(`skyscale_invocations_total{${fn},runtime="python",mode="http",status="succeeded"} 2`), body);
  assert.ok(body.includes(`skyscale_invocations_total{${fn},runtime="python",mode="stream",status="timed_out"} 1`));
  assert.ok(body.includes(`skyscale_invocation_errors_total{${fn},mode="stream",status="timed_out",reason="timeout"} 1`));
  assert.ok(body.includes(`skyscale_cold_starts_total{${fn},runtime="python"} 1`));
  assert.ok(body.includes(`skyscale_invocation_duration_seconds_count{${fn},mode="http",start="cold"} 1`));
  assert.ok(body.includes(`skyscale_invocation_duration_seconds_count{${fn},mode="http",start="warm"} 1`));
});
