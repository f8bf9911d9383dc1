/**
 * The bus conformance suite: what every Bus implementation (core/ports/bus.ts) must do. Run by
 * test/bus/memory-bus.test.ts now, by the NATS bus's test when it comes. Deliveries are awaited with
 * `eventually`, so a bus that delivers after publish resolves (over a network) passes the same cases.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { publish, subscribe } from '../../src/core/events.ts';
import { eventually, type OpenBus, type WithBus } from './bus-helpers.ts';
import { requestCases } from './bus-request.case.ts';
import { workQueueCases } from './bus-work-queue.case.ts';
import { keyValueCases } from './bus-key-value.case.ts';
import { blobCases } from './bus-blobs.case.ts';

export type { OpenBus } from './bus-helpers.ts';

export function runBusConformance(name: string, open: OpenBus): void {
  describe(`bus conformance: ${name}`, () => {
    const withBus: WithBus = (title, body) =>
      test(title, async () => {
        const { bus, dispose } = await open();
        try {
          await body(bus);
        } finally {
          await dispose();
        }
      });

    withBus('every subscriber of a subject gets every message, in publish order; other subjects get none', async (bus) => {
      const a: string[] = [];
      const b: string[] = [];
      const other: string[] = [];
      bus.subscribe('t.one', (d) => void a.push(d));
      bus.subscribe('t.one', (d) => void b.push(d));
      bus.subscribe('t.two', (d) => void other.push(d));
      for (let i = 0; i < 20; i++) await bus.publish('t.one', String(i));
      const expected = Array.from({ length: 20 }, (_, i) => String(i));
      await eventually(() => a.length === 20 && b.length === 20);
      assert.deepEqual(a, expected);
      assert.deepEqual(b, expected);
      assert.deepEqual(other, []);
    });

    withBus('a slow handler sees its messages one at a time, in order', async (bus) => {
      const seen: string[] = [];
      let running = 0;
      let overlapped = false;
      bus.subscribe('t.slow', async (d) => {
        running++;
        if (running > 1) overlapped = true;
        await new Promise((r) => setTimeout(r, 5));
        seen.push(d);
        running--;
      });
      await Promise.all(['1', '2', '3', '4'].map((d) => bus.publish('t.slow', d)));
      await eventually(() => seen.length === 4);
      assert.deepEqual(seen, ['1', '2', '3', '4']);
      assert.equal(overlapped, false);
    });

    withBus('a handler that throws does not stop the others, nor its own next message', async (bus) => {
      const good: string[] = [];
      const flaky: string[] = [];
      bus.subscribe('t.err', (d) => {
        flaky.push(d);
        if (d === 'bad') throw new Error('handler failed');
      });
      bus.subscribe('t.err', (d) => void good.push(d));
      await bus.publish('t.err', 'bad');
      await bus.publish('t.err', 'next');
      await eventually(() => good.length === 2 && flaky.length === 2);
      assert.deepEqual(flaky, ['bad', 'next']);
    });

    withBus('unsubscribe stops delivery to that subscription only; close stops all', async (bus) => {
      const kept: string[] = [];
      const dropped: string[] = [];
      const sub = bus.subscribe('t.unsub', (d) => void dropped.push(d));
      bus.subscribe('t.unsub', (d) => void kept.push(d));
      await bus.publish('t.unsub', 'before');
      await eventually(() => kept.length === 1 && dropped.length === 1);
      sub.unsubscribe();
      await bus.publish('t.unsub', 'after');
      await eventually(() => kept.length === 2);
      assert.deepEqual(dropped, ['before']);
      await bus.close();
      await bus.publish('t.unsub', 'closed').catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(kept, ['before', 'after']);
    });

    withBus('platform events travel as JSON under their subjects (core/events.ts)', async (bus) => {
      const deleted: Array<{ functionId: string; ownerId: string }> = [];
      subscribe(bus, 'functions.deleted', (e) => void deleted.push(e));
      await publish(bus, 'functions.deleted', { functionId: 'f1', ownerId: 'u1' });
      await eventually(() => deleted.length === 1);
      assert.deepEqual(deleted, [{ functionId: 'f1', ownerId: 'u1' }]);
    });

    requestCases(withBus);
    workQueueCases(withBus);
    keyValueCases(withBus);
    blobCases(withBus);
  });
}
