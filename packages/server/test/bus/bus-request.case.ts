import assert from 'node:assert/strict';
import { rejectsWith, unique, type WithBus } from './bus-helpers.ts';

export function requestCases(withBus: WithBus): void {
  withBus('request gets the reply of the subject\'s server', async (bus) => {
    const subject = unique('r.echo');
    bus.serve(subject, async (d) => `echo:${d}`);
    assert.equal(await bus.request(subject, 'hi', { timeoutMs: 2000 }), 'echo:hi');
  });

  withBus('a queue group spreads requests, each to one of its servers', async (bus) => {
    const subject = unique('r.queue');
    const handled = [0, 0, 0];
    handled.forEach((_, i) => bus.serve(subject, async (d) => (handled[i]!++, d), { queue: 'workers' }));
    await new Promise((r) => setTimeout(r, 50)); // the subscriptions reach the server
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => bus.request(subject, String(i), { timeoutMs: 2000 })));
    assert.deepEqual(replies, Array.from({ length: 60 }, (_, i) => String(i)));
    assert.equal(handled.reduce((a, b) => a + b), 60, 'each request handled once');
    assert.ok(handled.every((n) => n > 0), `every server got some: ${handled.join(', ')}`);
  });

  withBus('nobody serving the subject is no_responders, at once', async (bus) => {
    const start = Date.now();
    await rejectsWith(bus.request(unique('r.none'), 'x', { timeoutMs: 5000 }), 'no_responders');
    assert.ok(Date.now() - start < 1000, `took ${Date.now() - start} ms`);
  });

  withBus('a server that does not answer (or throws) is a timeout after timeoutMs', async (bus) => {
    const slow = unique('r.slow');
    const failing = unique('r.throws');
    let release!: () => void;
    const held = new Promise<string>((r) => (release = () => r('late')));
    bus.serve(slow, () => held);
    bus.serve(failing, async () => {
      throw new Error('the handler failed');
    });
    await new Promise((r) => setTimeout(r, 50));
    const start = Date.now();
    await rejectsWith(bus.request(slow, 'x', { timeoutMs: 300 }), 'timeout');
    const took = Date.now() - start;
    assert.ok(took >= 280 && took < 2000, `took ${took} ms`);
    await rejectsWith(bus.request(failing, 'x', { timeoutMs: 300 }), 'timeout');
    release();
  });

  withBus('data over maxPayload is too_large, for request and publish', async (bus) => {
    const subject = unique('r.big');
    let served = 0;
    bus.serve(subject, async (d) => (served++, String(d.length)));
    assert.ok(bus.maxPayload >= 64 * 1024, `maxPayload ${bus.maxPayload}`);
    const big = 'x'.repeat(bus.maxPayload + 1);
    await rejectsWith(bus.request(subject, big, { timeoutMs: 2000 }), 'too_large');
    await rejectsWith(bus.publish(subject, big), 'too_large');
    const fits = 'x'.repeat(bus.maxPayload - 1024);
    assert.equal(await bus.request(subject, fits, { timeoutMs: 2000 }), String(fits.length));
    assert.equal(served, 1);
  });

  withBus('a closed bus refuses requests: closed', async (bus) => {
    await bus.close();
    await rejectsWith(bus.request(unique('r.closed'), 'x', { timeoutMs: 500 }), 'closed');
  });
}
