import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readIoBytes } from '../../src/sandbox/cgroup/cgroupfs.ts';
import { DEFAULT_LOAD_SETTINGS } from '../../src/config/options.ts';
import { LoadTracker, score, smooth, utilisation, type LoadReading } from '../../src/worker/load.ts';
import { place } from '../../src/worker/placement.ts';
import { loadConfig, ConfigError } from '../../src/config/config.ts';

const MiB = 1024 * 1024;
const reading = (at: number, cpuMs: number, memoryBytes: number, ioBytes: number | null, cpuCores = 1): LoadReading => ({ at, cpuMs, cpuCores, memoryBytes, memoryLimitBytes: 100 * MiB, ioBytes });
const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≉ ${expected}`);

test('utilisation: cpu = cpu delta / wall delta / cores, memory = usage / limit, io = bytes/s / reference; clamped to 0..1', () => {
  const ref = 10 * MiB;
  const u = utilisation(reading(1000, 100, 10 * MiB, 0), reading(1500, 350, 25 * MiB, 2.5 * MiB), ref);
  near(u.cpu, 0.5); // 250 ms of CPU in 500 ms on one core
  near(u.memory, 0.25);
  near(u.io, 0.5); // 2.5 MiB in 0.5 s = 5 MiB/s of a 10 MiB/s reference
  near(utilisation(reading(0, 0, 0, 0, 2), reading(1000, 1000, 0, 0, 2), ref).cpu, 0.5); // one of two quota cores
  const over = utilisation(reading(0, 0, 0, 0), reading(100, 500, 200 * MiB, 100 * MiB), ref);
  assert.deepEqual(over, { cpu: 1, memory: 1, io: 1 });
  // Counters that went backwards (a process left the group) and unknown I/O count as 0.
  assert.deepEqual(utilisation(reading(0, 500, 0, 9000), reading(500, 100, 0, 10), ref), { cpu: 0, memory: 0, io: 0 });
  near(utilisation(reading(0, 0, 0, null), reading(500, 0, 0, 5 * MiB), ref).io, 0);
});

test('EMA: the factor weights the history; the first sample seeds it', () => {
  const first = smooth(null, { cpu: 1, memory: 0.5, io: 0 }, 0.7);
  assert.deepEqual(first, { cpu: 1, memory: 0.5, io: 0 });
  const second = smooth(first, { cpu: 0, memory: 0.5, io: 1 }, 0.7);
  near(second.cpu, 0.7); // 70 % old, 30 % new
  near(second.memory, 0.5);
  near(second.io, 0.3);
  assert.deepEqual(smooth(first, { cpu: 0.2, memory: 0.1, io: 0.9 }, 0), { cpu: 0.2, memory: 0.1, io: 0.9 }); // factor 0 = no smoothing
});

test('score = α·cpu + β·memory + γ·io with the default weights 0.5 / 0.3 / 0.2', () => {
  near(score({ cpu: 1, memory: 0, io: 0 }, DEFAULT_LOAD_SETTINGS.weights), 0.5);
  near(score({ cpu: 0.4, memory: 0.5, io: 0.25 }, DEFAULT_LOAD_SETTINGS.weights), 0.2 + 0.15 + 0.05);
  near(score({ cpu: 1, memory: 1, io: 1 }, DEFAULT_LOAD_SETTINGS.weights), 1);
});

test('a tracker needs two readings for a utilisation, then smooths and scores each one', () => {
  const t = new LoadTracker({ ...DEFAULT_LOAD_SETTINGS, saturationScore: 0.4 });
  t.update(reading(0, 0, 10 * MiB, 0));
  assert.equal(t.utilisation, null);
  assert.equal(t.score, 0);
  t.update(reading(500, 500, 10 * MiB, 0)); // a full core
  near(t.ema!.cpu, 1);
  near(t.score, 0.5 + 0.3 * 0.1);
  assert.equal(t.saturated, true);
  t.update(reading(1000, 500, 10 * MiB, 0)); // idle again: 0.7 × 1 + 0.3 × 0
  near(t.ema!.cpu, 0.7);
  for (let at = 1500; at <= 5000; at += 500) t.update(reading(at, 500, 10 * MiB, 0));
  assert.ok(t.ema!.cpu < 0.05);
  assert.equal(t.saturated, false);
});

type Fake = { name: string; inFlight: number; free: boolean; load: { score: number; saturated: boolean }; canTake: (c: number) => boolean };
const fake = (name: string, scoreValue: number, inFlight = 0, options: { free?: boolean; saturated?: boolean } = {}): Fake => ({
  name, inFlight, free: options.free ?? true,
  load: { score: scoreValue, saturated: options.saturated ?? scoreValue >= 0.4 },
  canTake(concurrency) {
    return this.free && this.inFlight < concurrency;
  },
});

test('placement: lowest score among instances with a free slot; the live in-flight share breaks bursts', () => {
  assert.equal(place([fake('a', 0.3), fake('b', 0.1), fake('c', 0.2)], 1).pick?.name, 'b');
  assert.equal(place([fake('a', 0.3), fake('b', 0.1, 1), fake('c', 0.2)], 1).pick?.name, 'c'); // b has no slot
  assert.equal(place([fake('a', 0.1), fake('b', 0.1)], 1).pick?.name, 'a'); // ties: the older instance
  assert.equal(place([fake('a', 0.1, 3), fake('b', 0.2, 1)], 4).pick?.name, 'b'); // 0.1 + 3/4 > 0.2 + 1/4
  assert.equal(place([fake('a', 0.05, 0, { free: false }), fake('b', 0.3)], 2).pick?.name, 'b'); // not ready
  assert.equal(place([], 1).pick, undefined);
});

test('placement: saturated only when every instance is over the threshold or has no free slot', () => {
  assert.equal(place([fake('a', 0.5), fake('b', 0.1)], 1).saturated, false);
  const all = place([fake('a', 0.5), fake('b', 0.45)], 1);
  assert.equal(all.saturated, true);
  assert.equal(all.pick?.name, 'b'); // still served now, on the least loaded
  const full = place([fake('a', 0.5), fake('b', 0.1, 1)], 1);
  assert.equal(full.saturated, true);
  assert.equal(full.pick?.name, 'a');
  assert.deepEqual(place([fake('a', 0.1, 1)], 1), { pick: undefined, saturated: true });
});

test('load settings come from the environment and are validated', () => {
  const d = loadConfig({}).load;
  assert.deepEqual({ ...d, weights: { ...d.weights } }, { intervalMs: 500, emaFactor: 0.7, weights: { cpu: 0.5, memory: 0.3, io: 0.2 }, ioReferenceBytesPerSec: 50 * MiB, saturationScore: 0.4 });
  const c = loadConfig({ LOAD_WEIGHT_CPU: '0.6', LOAD_WEIGHT_MEMORY: '0.4', LOAD_WEIGHT_IO: '0', LOAD_EMA_FACTOR: '0', LOAD_SAMPLE_INTERVAL_MS: '250', LOAD_IO_REFERENCE_MB_PER_SEC: '100', LOAD_SATURATION_SCORE: '.9' }).load;
  assert.deepEqual({ ...c.weights }, { cpu: 0.6, memory: 0.4, io: 0 });
  assert.equal(c.emaFactor, 0);
  assert.equal(c.intervalMs, 250);
  assert.equal(c.ioReferenceBytesPerSec, 100 * MiB);
  assert.equal(c.saturationScore, 0.9);
  const bad: Array<[Record<string, string>, string]> = [
    [{ LOAD_WEIGHT_CPU: '0.6' }, 'LOAD_WEIGHT_CPU + LOAD_WEIGHT_MEMORY + LOAD_WEIGHT_IO'],
    [{ LOAD_WEIGHT_IO: '-0.2' }, 'LOAD_WEIGHT_IO'],
    [{ LOAD_WEIGHT_MEMORY: 'lots' }, 'LOAD_WEIGHT_MEMORY'],
    [{ LOAD_EMA_FACTOR: '1' }, 'LOAD_EMA_FACTOR'],
    [{ LOAD_SAMPLE_INTERVAL_MS: '10' }, 'LOAD_SAMPLE_INTERVAL_MS'],
    [{ LOAD_SATURATION_SCORE: '0' }, 'LOAD_SATURATION_SCORE'],
    [{ LOAD_IO_REFERENCE_MB_PER_SEC: '0' }, 'LOAD_IO_REFERENCE_MB_PER_SEC'],
    [{ METRICS_ACCESS: 'everyone' }, 'METRICS_ACCESS'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
  ];
  for (const [env, variable] of bad) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.variable === variable, `${JSON.stringify(env)} should fail on ${variable}`);
  }
  assert.equal(loadConfig({}).metricsAccess, 'token');
});

test('block I/O bytes are read from cgroup v1 blkio and v2 io.stat files alike', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-io-'));
  try {
    writeFileSync(path.join(dir, 'v1'), '8:0 Read 4096\n8:0 Write 1024\n8:0 Sync 5120\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 5120\n8:16 Read 100\n8:16 Write 0\nTotal 5220\n');
    writeFileSync(path.join(dir, 'v2'), '8:0 rbytes=4096 wbytes=1024 rios=2 wios=1 dbytes=0 dios=0\n8:16 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n');
    writeFileSync(path.join(dir, 'empty'), '');
    assert.equal(readIoBytes(path.join(dir, 'v1')), 5220);
    assert.equal(readIoBytes(path.join(dir, 'v2')), 5220);
    assert.equal(readIoBytes(path.join(dir, 'empty')), 0);
    assert.ok(Number.isNaN(readIoBytes(path.join(dir, 'missing'))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
