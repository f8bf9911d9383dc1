import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { INSTANCE_STATES, TRANSITIONS, canTransition, type InstanceState } from '../../src/core/instance-state.ts';

test('the instance lifecycle: every state reaches dead, dead is final, stopping only ends', () => {
  for (const state of INSTANCE_STATES) {
    if (state !== 'dead') assert.ok(canTransition(state, 'dead'), `${state} → dead`);
    if (state !== 'dead' && state !== 'stopping') assert.ok(canTransition(state, 'stopping'), `${state} → stopping`);
  }
  assert.deepEqual(TRANSITIONS.dead, []);
  assert.deepEqual(TRANSITIONS.stopping, ['dead']);
});

test('the instance lifecycle: every state is reachable from starting, and the table names only known states', () => {
  const seen = new Set<InstanceState>(['starting']);
  const queue: InstanceState[] = ['starting'];
  while (queue.length > 0) {
    for (const next of TRANSITIONS[queue.shift()!]) {
      assert.ok(INSTANCE_STATES.includes(next), next);
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  assert.deepEqual([...seen].sort(), [...INSTANCE_STATES].sort());
});

test('the instance lifecycle refuses what would break an instance', () => {
  const refused: Array<[InstanceState, InstanceState]> = [['ready', 'stem'], ['stopping', 'ready'], ['dead', 'ready'], ['stem', 'busy'], ['loading', 'busy'], ['busy', 'paused'], ['paused', 'busy'], ['starting', 'ready']];
  for (const [from, to] of refused) assert.equal(canTransition(from, to), false, `${from} → ${to}`);
  const allowed: Array<[InstanceState, InstanceState]> = [['starting', 'stem'], ['stem', 'loading'], ['loading', 'ready'], ['ready', 'busy'], ['busy', 'ready'], ['ready', 'pausing'], ['pausing', 'paused'], ['paused', 'ready'], ['ready', 'snapshotting'], ['snapshotting', 'ready']];
  for (const [from, to] of allowed) assert.ok(canTransition(from, to), `${from} → ${to}`);
});

test('the process driver changes an instance\'s state in one place, through the table', () => {
  const source = readFileSync(path.resolve(import.meta.dirname, '../../src/sandbox/process/process-instance.ts'), 'utf8');
  assert.equal(source.match(/#state = /g)?.length, 1, 'one assignment, inside #transition');
  assert.match(source, /#transition\(to: InstanceState\): void \{[\s\S]{0,200}canTransition\(this\.#state, to\)/);
});
