/** decide(): the autoscaler's rule (docs/deploy.md, The autoscaler), as tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, SCALE_REASONS, type DecideSettings, type ScaleReason } from '../../src/autoscaler/decide.ts';
import { DEFAULT_AUTOSCALER_SETTINGS } from '../../src/config/options.ts';

/** Seed 001's defaults: 2..10 workers, up at ≥ 3 per worker, down at ≤ 2, 30 s cooldown. */
const SEED: DecideSettings = DEFAULT_AUTOSCALER_SETTINGS;
const NOW = 1_000_000;
const LONG_AGO = NOW - 60_000;

type Row = [current: number, demand: number, wanted: number, reason: ScaleReason];

function check(settings: DecideSettings, rows: Row[], lastChangeAt: number | null): void {
  for (const [current, demand, wanted, reason] of rows) {
    const d = decide(settings, { current, demand, lastChangeAt, now: NOW });
    assert.deepEqual([d.wanted, d.reason], [wanted, reason], `current ${current}, demand ${demand}, last change ${lastChangeAt === null ? 'never' : NOW - lastChangeAt + ' ms ago'}`);
  }
}

test('out of cooldown: up jumps to ceil(demand / up threshold), down steps by one, both within min..max', () => {
  const rows: Row[] = [
    // in band: 2 < demand per worker < 3
    [2, 5, 2, 'hold_in_band'],
    [4, 9, 4, 'hold_in_band'],
    [10, 21, 10, 'hold_in_band'],
    // up: at the threshold exactly adds at least one
    [2, 6, 3, 'scale_up'],
    [3, 9, 4, 'scale_up'],
    [2, 7, 3, 'scale_up'],
    // up: the KEDA-style jump
    [2, 12, 4, 'scale_up'],
    [2, 13, 5, 'scale_up'],
    [2, 27, 9, 'scale_up'],
    [2, 30, 10, 'scale_up'],
    [9, 27, 10, 'scale_up'],
    // up, capped at max
    [2, 500, 10, 'scale_up'],
    [9, 1000, 10, 'scale_up'],
    // at max and still over: held at the bound
    [10, 30, 10, 'clamp_max'],
    [10, 5000, 10, 'clamp_max'],
    // down: at the threshold exactly, and below, by one only
    [3, 6, 2, 'scale_down'],
    [10, 20, 9, 'scale_down'],
    [10, 0, 9, 'scale_down'],
    [5, 1, 4, 'scale_down'],
    // at min and under: held at the bound
    [2, 4, 2, 'clamp_min'],
    [2, 0, 2, 'clamp_min'],
    // outside the bounds: straight to the bound, whatever the demand
    [0, 0, 2, 'clamp_min'],
    [0, 100, 2, 'clamp_min'],
    [1, 50, 2, 'clamp_min'],
    [11, 0, 10, 'clamp_max'],
    [25, 1000, 10, 'clamp_max'],
  ];
  check(SEED, rows, LONG_AGO);
  check(SEED, rows, null);
});

test('within the cooldown a change is held, but a count outside the bounds is still clamped', () => {
  for (const ago of [0, 1, 29_999]) {
    check(SEED, [
      [2, 5, 2, 'hold_in_band'],
      [2, 6, 2, 'hold_cooldown'],
      [2, 500, 2, 'hold_cooldown'],
      [5, 0, 5, 'hold_cooldown'],
      [3, 6, 3, 'hold_cooldown'],
      [10, 500, 10, 'clamp_max'],
      [2, 0, 2, 'clamp_min'],
      [0, 0, 2, 'clamp_min'],
      [1, 500, 2, 'clamp_min'],
      [12, 0, 10, 'clamp_max'],
    ], NOW - ago);
  }
  // the cooldown is over at exactly COOLDOWN_PERIOD
  check(SEED, [[2, 6, 3, 'scale_up'], [5, 0, 4, 'scale_down']], NOW - 30_000);
});

test('a zero cooldown never holds; other bounds and thresholds', () => {
  check({ ...SEED, cooldownMs: 0 }, [[2, 6, 3, 'scale_up'], [5, 0, 4, 'scale_down']], NOW);
  const wide: DecideSettings = { minWorkers: 1, maxWorkers: 100, scaleUpThreshold: 10, scaleDownThreshold: 0, cooldownMs: 1000 };
  check(wide, [
    [1, 0, 1, 'clamp_min'],
    [1, 1, 1, 'hold_in_band'],
    [1, 9, 1, 'hold_in_band'],
    [1, 10, 2, 'scale_up'],
    [1, 501, 51, 'scale_up'],
    [3, 0, 2, 'scale_down'],
    [3, 1, 3, 'hold_in_band'],
    [50, 5000, 100, 'scale_up'],
  ], null);
  const fixed: DecideSettings = { minWorkers: 4, maxWorkers: 4, scaleUpThreshold: 3, scaleDownThreshold: 2, cooldownMs: 0 };
  check(fixed, [[4, 0, 4, 'clamp_min'], [4, 100, 4, 'clamp_max'], [4, 10, 4, 'hold_in_band'], [3, 100, 4, 'clamp_min'], [5, 0, 4, 'clamp_max']], null);
});

test('demand per worker is reported; odd inputs are read safely', () => {
  assert.equal(decide(SEED, { current: 4, demand: 10, lastChangeAt: null, now: NOW }).perWorker, 2.5);
  assert.equal(decide(SEED, { current: 0, demand: 10, lastChangeAt: null, now: NOW }).perWorker, Infinity);
  assert.equal(decide(SEED, { current: 0, demand: 0, lastChangeAt: null, now: NOW }).perWorker, 0);
  assert.deepEqual(decide(SEED, { current: 3, demand: -5, lastChangeAt: null, now: NOW }).reason, 'scale_down');
  assert.deepEqual(decide(SEED, { current: 2.7, demand: 5, lastChangeAt: null, now: NOW }).wanted, 2);
});

test('every reason is reachable and the list of reasons is the metric\'s label set', () => {
  const seen = new Set<ScaleReason>();
  for (let current = 0; current <= 12; current++) {
    for (let demand = 0; demand <= 60; demand++) {
      for (const lastChangeAt of [null, NOW - 1]) {
        const d = decide(SEED, { current, demand, lastChangeAt, now: NOW });
        seen.add(d.reason);
        assert.ok(d.wanted >= SEED.minWorkers && d.wanted <= SEED.maxWorkers, `${current}/${demand}: ${d.wanted} within the bounds`);
        if (d.reason.startsWith('hold')) assert.equal(d.wanted, current);
        if (d.reason === 'scale_down') assert.equal(d.wanted, current - 1);
        if (d.reason === 'scale_up') assert.ok(d.wanted > current && d.wanted === Math.min(SEED.maxWorkers, Math.max(current + 1, Math.ceil(demand / SEED.scaleUpThreshold))));
      }
    }
  }
  assert.deepEqual([...seen].sort(), [...SCALE_REASONS].sort());
});
