/**
 * A burst through the whole loop on real timers: 500 queued executions, drained by simulated consumers
 * (as many as the workers the actuator has made ready), the autoscaler ticking every 50 ms with a 200 ms
 * cooldown. The actuator is an in-process stand-in for the local one (which is tested with real
 * processes in local-actuator.test.ts): it "starts" a worker 30 ms after being asked, and counts one out
 * at once on a drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Actuator } from '../../src/autoscaler/actuators/actuator.ts';
import { startAutoscaler, type DemandSource } from '../../src/autoscaler/autoscaler.ts';
import type { ScaleReason } from '../../src/autoscaler/decide.ts';
import { DEFAULT_AUTOSCALER_SETTINGS } from '../../src/config/options.ts';
import { captureLog, until } from './log-capture.ts';

const SETTINGS = { ...DEFAULT_AUTOSCALER_SETTINGS, checkIntervalMs: 50, cooldownMs: 200 };
const JOB_MS = 25;

/** A work queue: jobs wait in `queued`, a consumer takes one (in flight) and acks it JOB_MS later. */
class WorkQueue implements DemandSource {
  readonly queued: number[] = [];
  inFlight = 0;
  done = 0;

  async demand() {
    return { pending: this.queued.length, ackPending: this.inFlight, syncQueued: 0 };
  }

  /** One consumer's pull: a job if there is one. */
  take(): boolean {
    if (this.queued.shift() === undefined) return false;
    this.inFlight++;
    return true;
  }

  ack(): void {
    this.inFlight--;
    this.done++;
  }
}

/** The workers: each pulls one job at a time while running; made ready 30 ms after being asked for. */
class SimulatedFleet implements Actuator {
  readonly kind = 'simulated-local';
  readonly history: Array<{ n: number; reason: ScaleReason; at: number }> = [];
  ready = 0;
  #wanted = 0;
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  readonly queue: WorkQueue;

  constructor(queue: WorkQueue, initial: number) {
    this.queue = queue;
    this.#wanted = initial;
    for (let i = 0; i < initial; i++) this.#startWorker();
  }

  async current() {
    return this.#wanted;
  }

  async scaleTo(n: number, reason: ScaleReason) {
    this.history.push({ n, reason, at: Date.now() });
    for (let i = this.#wanted; i < n; i++) this.#after(30, () => this.#startWorker());
    this.#wanted = n;
    // a drain: the surplus workers stop pulling at once (each finishes the job it has)
  }

  #startWorker() {
    this.ready++;
    const loop = () => {
      if (this.#stopped) return;
      if (this.ready > this.#wanted) { this.ready--; return; } // drained
      if (this.queue.take()) this.#after(JOB_MS, () => { this.queue.ack(); loop(); });
      else this.#after(5, loop);
    };
    loop();
  }

  #after(ms: number, fn: () => void) {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn(); }, ms);
    this.#timers.add(timer);
  }

  async stop() {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
  }
}

test('500 queued: up to MAX_WORKERS at once; drained: down one at a time, a cooldown apart, to MIN_WORKERS', async (t) => {
  const queue = new WorkQueue();
  const fleet = new SimulatedFleet(queue, SETTINGS.minWorkers);
  const { log } = captureLog();
  const scaler = startAutoscaler({ settings: SETTINGS, demand: queue, workers: async () => fleet.ready, actuator: fleet, log });
  t.after(async () => { await scaler.stop(); await fleet.stop(); });

  await until(() => scaler.last, 5000, 'the first tick');
  assert.equal(scaler.last!.decision.reason, 'clamp_min');
  for (let i = 0; i < 500; i++) queue.queued.push(i);
  const began = Date.now();

  await until(() => fleet.history.length > 0, 2000, 'a scale-up');
  assert.deepEqual([fleet.history[0].n, fleet.history[0].reason], [SETTINGS.maxWorkers, 'scale_up'], 'one jump to the maximum: 500 / 3 is far above it');
  assert.ok(fleet.history[0].at - began < 1000, 'within a few ticks');
  await until(() => fleet.ready === SETTINGS.maxWorkers, 2000, 'all ten to be ready');

  await until(() => queue.done === 500, 10_000, 'the burst to drain');
  const drainedAt = Date.now();
  assert.ok(drainedAt - began < 6000, `ten workers drain 500 jobs of ${JOB_MS} ms in about 1.3 s (took ${drainedAt - began} ms)`);
  assert.ok(fleet.history.every((h) => h.n === SETTINGS.maxWorkers || h.reason === 'scale_down'), 'no scale-down while the queue is deep');

  await until(() => fleet.ready === SETTINGS.minWorkers && scaler.last?.decision.reason === 'clamp_min', 10_000, 'back at the minimum');
  const downs = fleet.history.filter((h) => h.reason === 'scale_down');
  assert.deepEqual(downs.map((h) => h.n), [9, 8, 7, 6, 5, 4, 3, 2], 'one at a time');
  const changes = fleet.history.map((h) => h.at);
  for (let i = 1; i < changes.length; i++) assert.ok(changes[i] - changes[i - 1] >= SETTINGS.cooldownMs - 5, `change ${i} came ${changes[i] - changes[i - 1]} ms after the one before`);
  assert.equal(fleet.history.length, 9, 'up once, down eight times: no flapping');

  // and it stays there
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(fleet.history.length, 9);
  assert.equal(await fleet.current(), SETTINGS.minWorkers);
});
