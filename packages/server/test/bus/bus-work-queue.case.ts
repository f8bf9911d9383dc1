import assert from 'node:assert/strict';
import type { Delivery } from '../../src/core/ports/bus.ts';
import { eventually, sleep, unique, type WithBus } from './bus-helpers.ts';

/** Small so redelivery cases stay quick; working() is sent well within it. */
const ACK_WAIT_MS = 300;

export function workQueueCases(withBus: WithBus): void {
  withBus('work queue: a second add with the same id is dropped', async (bus) => {
    const queue = await bus.workQueue(unique('wq'), { ackWaitMs: ACK_WAIT_MS });
    await queue.add('a', '1');
    await queue.add('a', '1 again');
    await queue.add('b', '2');
    const seen: string[] = [];
    const consumer = queue.consume({ maxInFlight: 4 }, async (d) => {
      seen.push(`${d.id}=${d.data}`);
      await d.ack();
    });
    await eventually(() => seen.length >= 2);
    await sleep(200);
    await consumer.stop();
    assert.deepEqual(seen.sort(), ['a=1', 'b=2']);
  });

  withBus('work queue: at most maxInFlight handlers of a consumer at once', async (bus) => {
    const queue = await bus.workQueue(unique('wq'), { ackWaitMs: 2000 });
    for (let i = 0; i < 12; i++) await queue.add(`m${i}`, String(i));
    let running = 0;
    let most = 0;
    const done = new Set<string>();
    const consumer = queue.consume({ maxInFlight: 3 }, async (d) => {
      most = Math.max(most, ++running);
      await sleep(40);
      running--;
      done.add(d.id);
      await d.ack();
    });
    await eventually(() => done.size === 12);
    await consumer.stop();
    assert.equal(most, 3);
  });

  withBus('work queue: a delivery not acked within ackWait is delivered again', async (bus) => {
    const queue = await bus.workQueue(unique('wq'), { ackWaitMs: ACK_WAIT_MS });
    const deliveries: Array<{ redeliveries: number; at: number }> = [];
    const start = Date.now();
    const consumer = queue.consume({ maxInFlight: 1 }, async (d) => {
      deliveries.push({ redeliveries: d.redeliveries, at: Date.now() - start });
      if (d.redeliveries > 0) await d.ack();
    });
    await queue.add('once', 'x');
    await eventually(() => deliveries.length === 2);
    await sleep(ACK_WAIT_MS * 2);
    await consumer.stop();
    assert.deepEqual(deliveries.map((d) => d.redeliveries), [0, 1]);
    assert.ok(deliveries[1]!.at - deliveries[0]!.at >= ACK_WAIT_MS - 50, `redelivered after ${deliveries[1]!.at - deliveries[0]!.at} ms`);
  });

  withBus('work queue: working() keeps a long delivery from being delivered again', async (bus) => {
    const queue = await bus.workQueue(unique('wq'), { ackWaitMs: ACK_WAIT_MS });
    let deliveries = 0;
    let acked = false;
    const consumer = queue.consume({ maxInFlight: 1 }, async (d) => {
      deliveries++;
      for (let i = 0; i < 8; i++) {
        await sleep(ACK_WAIT_MS / 3);
        d.working();
      }
      await d.ack();
      acked = true;
    });
    await queue.add('long', 'x');
    await eventually(() => acked);
    await sleep(ACK_WAIT_MS * 2);
    await consumer.stop();
    assert.equal(deliveries, 1, 'ran 2.7 × ackWait with working() and was not delivered again');
  });

  withBus('work queue: nak(delay) delivers again after the delay, nak() at once', async (bus) => {
    const queue = await bus.workQueue(unique('wq'), { ackWaitMs: 5000 });
    const seen: Array<{ id: string; redeliveries: number; at: number }> = [];
    const start = Date.now();
    const consumer = queue.consume({ maxInFlight: 2 }, async (d: Delivery) => {
      seen.push({ id: d.id, redeliveries: d.redeliveries, at: Date.now() - start });
      if (d.redeliveries > 0) return void (await d.ack());
      d.nak(d.id === 'delayed' ? 700 : undefined);
    });
    await queue.add('delayed', 'x');
    await queue.add('now', 'y');
    await eventually(() => seen.length === 4);
    await consumer.stop();
    const gap = (id: string) => {
      const [first, second] = seen.filter((s) => s.id === id);
      assert.equal(second?.redeliveries, 1);
      return second!.at - first!.at;
    };
    assert.ok(gap('delayed') >= 650, `delayed nak came back after ${gap('delayed')} ms`);
    assert.ok(gap('now') < 1000, `plain nak came back after ${gap('now')} ms (ackWait is 5 s)`);
  });

  withBus('work queue: depth counts pending and ackPending', async (bus) => {
    const queue = await bus.workQueue(unique('wq'), { ackWaitMs: 5000 });
    for (const id of ['a', 'b', 'c']) await queue.add(id, id);
    await eventually(async () => (await queue.depth()).pending === 3);
    assert.deepEqual(await queue.depth(), { pending: 3, ackPending: 0 });
    const held: Delivery[] = [];
    const consumer = queue.consume({ maxInFlight: 1 }, async (d) => {
      held.push(d);
      await eventually(() => held.length === 0 || !held.includes(d), 10_000);
    });
    await eventually(async () => {
      const depth = await queue.depth();
      return depth.pending === 2 && depth.ackPending === 1;
    });
    while ((await queue.depth()).pending + (await queue.depth()).ackPending > 0) {
      await eventually(() => held.length > 0);
      const d = held.shift()!;
      await d.ack();
      await sleep(20);
    }
    assert.deepEqual(await queue.depth(), { pending: 0, ackPending: 0 });
    await consumer.stop();
  });

  withBus('work queue: two consumers share the work, each message to one', async (bus) => {
    const name = unique('wq');
    const first = await bus.workQueue(name, { ackWaitMs: 5000 });
    const second = await bus.workQueue(name, { ackWaitMs: 5000 });
    const by = new Map<string, string[]>();
    const handle = (who: string) => async (d: Delivery) => {
      by.set(d.id, [...(by.get(d.id) ?? []), who]);
      await sleep(15);
      await d.ack();
    };
    const consumers = [first.consume({ maxInFlight: 2 }, handle('one')), second.consume({ maxInFlight: 2 }, handle('two'))];
    for (let i = 0; i < 30; i++) await first.add(`m${i}`, String(i));
    await eventually(() => by.size === 30);
    await sleep(300);
    await Promise.all(consumers.map((c) => c.stop()));
    assert.ok([...by.values()].every((who) => who.length === 1), 'each message delivered once');
    const counts = ['one', 'two'].map((who) => [...by.values()].filter((w) => w[0] === who).length);
    assert.ok(counts.every((n) => n > 0), `both consumers got work: ${counts.join(', ')}`);
  });
}
