import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { runBusConformance } from './bus.case.ts';

runBusConformance('memory', async () => {
  const bus = new MemoryBus(pino({ level: 'silent' }));
  return { bus, dispose: () => bus.close() };
});

test('memory bus: publish resolves after the local handlers ran (a route change is live before the API answers)', async () => {
  const errors: unknown[] = [];
  const bus = new MemoryBus({ error: (obj: unknown) => void errors.push(obj) } as never);
  let applied = false;
  bus.subscribe('routes.changed', async () => {
    await new Promise((r) => setTimeout(r, 20));
    applied = true;
  });
  bus.subscribe('routes.changed', () => {
    throw new Error('a failing subscriber is logged');
  });
  await bus.publish('routes.changed', '{}');
  assert.equal(applied, true);
  assert.equal(errors.length, 1);
  await bus.close();
});
