/**
 * startAutoscaler(): the loop, with a real actuator (the command actuator running a shell command that
 * records each count in a file), real pino logs and a real Prometheus registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from '@prometheus-io/client';
import { CommandActuator } from '../../src/autoscaler/actuators/command.ts';
import { startAutoscaler, type QueueDemand } from '../../src/autoscaler/autoscaler.ts';
import { DEFAULT_AUTOSCALER_SETTINGS } from '../../src/config/options.ts';
import { PrometheusAutoscalerMetrics } from '../../src/metrics/autoscaler-metrics.ts';
import { captureLog, until } from './log-capture.ts';

/** Ticks only when the test calls tick() (after the first, at start); the clock is the test's. */
const SETTINGS = { ...DEFAULT_AUTOSCALER_SETTINGS, checkIntervalMs: 3_600_000 };

function rig(t: { after: (fn: () => unknown) => void }, command = '') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-autoscaler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const record = path.join(dir, 'counts');
  const failFlag = path.join(dir, 'fail');
  const { log, lines, messages } = captureLog();
  const actuator = new CommandActuator({ log, command: command || `test ! -e '${failFlag}' || { echo 'scaler unavailable' >&2; exit 1; }; echo "$SKYSCALE_DESIRED_WORKERS $SKYSCALE_SCALE_REASON" >> '${record}'` });
  const registry = new Registry();
  const state = { ready: 2, queue: { pending: 0, ackPending: 0, syncQueued: 0 } as QueueDemand, unreadable: false, clock: 1_000_000 };
  const scaler = startAutoscaler({
    settings: SETTINGS, actuator, log, metrics: new PrometheusAutoscalerMetrics(registry), now: () => state.clock,
    demand: { demand: async () => { if (state.unreadable) throw new Error('JetStream: consumer info timed out'); return state.queue; } },
    workers: async () => state.ready,
  });
  t.after(() => scaler.stop());
  const counts = () => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : []);
  const metric = async (line: RegExp) => assert.match(await registry.metrics(), line);
  return { scaler, state, counts, lines, messages, metric, fail: (on: boolean) => (on ? writeFileSync(failFlag, '') : rmSync(failFlag, { force: true })) };
}

test('changes are made, logged at info and counted; holds are logged at debug; the cooldown runs from the last change', async (t) => {
  const r = rig(t);
  await until(() => r.scaler.last, 5000, 'the first tick');
  assert.equal(r.scaler.last!.decision.reason, 'clamp_min', 'an empty queue at the minimum');
  assert.deepEqual(r.counts(), [], 'nothing to change');

  r.state.queue = { pending: 20, ackPending: 4, syncQueued: 3 };
  const up = await r.scaler.tick();
  assert.deepEqual([up!.decision.reason, up!.decision.wanted, up!.applied], ['scale_up', 9, true], 'ceil(27 / 3)');
  assert.deepEqual(r.counts(), ['9 scale_up']);
  const info = r.lines.filter((l) => l.level === 30 && l.msg.startsWith('autoscaler: scale_up'));
  assert.equal(info.length, 1);
  assert.deepEqual([info[0].ready, info[0].desired, info[0].demand, info[0].pending, info[0].ackPending, info[0].syncQueued], [2, 9, 27, 20, 4, 3]);

  // the workers come up slowly; within the cooldown nothing changes
  r.state.ready = 3;
  r.state.clock += 10_000;
  assert.equal((await r.scaler.tick())!.decision.reason, 'hold_cooldown');
  assert.ok(r.messages('debug').includes('autoscaler: hold_cooldown, 3 workers'));
  // after it, the same count is wanted, and the actuator already has it: not asked again
  r.state.clock += 30_000;
  const again = await r.scaler.tick();
  assert.deepEqual([again!.decision.reason, again!.decision.wanted, again!.applied], ['scale_up', 9, false]);
  assert.deepEqual(r.counts(), ['9 scale_up']);
  assert.ok(r.messages('debug').some((m) => /already asked for 9 workers/.test(m)));

  r.state.ready = 9;
  r.state.queue = { pending: 0, ackPending: 5, syncQueued: 0 };
  assert.equal((await r.scaler.tick())!.decision.reason, 'scale_down');
  assert.deepEqual(r.counts(), ['9 scale_up', '8 scale_down'], 'down by one');
  r.state.clock += 29_999;
  r.state.ready = 8;
  assert.equal((await r.scaler.tick())!.decision.reason, 'hold_cooldown');

  await r.metric(/^skyscale_autoscaler_decisions_total\{decision="scale_up"\} 2$/m);
  await r.metric(/^skyscale_autoscaler_decisions_total\{decision="scale_down"\} 1$/m);
  await r.metric(/^skyscale_autoscaler_decisions_total\{decision="hold_cooldown"\} 2$/m);
  await r.metric(/^skyscale_autoscaler_decisions_total\{decision="clamp_min"\} 1$/m);
  await r.metric(/^skyscale_autoscaler_desired_workers 8$/m);
  await r.metric(/^skyscale_autoscaler_ready_workers 8$/m);
  await r.metric(/^skyscale_autoscaler_demand 5$/m);
  assert.equal(r.lines.filter((l) => l.level === 30 && /^autoscaler: (scale|clamp|hold)/.test(l.msg)).length, 2, 'one info line per change');
});

test('a failed read or actuator is logged and counted, never thrown, and the next tick tries again', async (t) => {
  const r = rig(t);
  await until(() => r.scaler.last, 5000, 'the first tick');
  r.state.unreadable = true;
  assert.equal(await r.scaler.tick(), null);
  assert.ok(r.messages('warn').some((m) => /could not read the queue depth/.test(m)));
  await r.metric(/^skyscale_autoscaler_failures_total\{stage="read"\} 1$/m);

  r.state.unreadable = false;
  r.state.queue = { pending: 30, ackPending: 0, syncQueued: 0 };
  r.fail(true);
  const failed = await r.scaler.tick();
  assert.deepEqual([failed!.decision.reason, failed!.applied], ['scale_up', false]);
  const error = r.lines.find((l) => l.level === 50)!;
  assert.match(error.msg, /the command actuator could not scale to 10 workers; trying again next tick/);
  assert.match(String((error.err as { message: string }).message), /exited with code 1: scaler unavailable/);
  await r.metric(/^skyscale_autoscaler_failures_total\{stage="actuate"\} 1$/m);

  r.fail(false);
  const retried = await r.scaler.tick();
  assert.deepEqual([retried!.decision.reason, retried!.applied], ['scale_up', true], 'no cooldown: the failed change was not made');
  assert.deepEqual(r.counts(), ['10 scale_up']);

  r.state.ready = Number.NaN;
  assert.equal(await r.scaler.tick(), null, 'a count that is not a number is a failed read');
  await r.metric(/^skyscale_autoscaler_failures_total\{stage="read"\} 2$/m);
});

test('stop() waits for a tick under way, and no tick follows it', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-autoscaler-stop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const done = path.join(dir, 'done');
  const r = rig(t, `sleep 0.4; echo "$SKYSCALE_DESIRED_WORKERS" >> '${done}'`);
  r.state.ready = 0; // the first tick clamps to the minimum, through the slow command
  await until(() => r.messages('info').includes('autoscaler: started'), 5000, 'the start');
  await r.scaler.stop();
  assert.equal(readFileSync(done, 'utf8'), '2\n', 'the running tick finished before stop() resolved');
  assert.equal(r.scaler.last!.applied, true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(readFileSync(done, 'utf8'), '2\n');
});
