/** What only the NATS bus has to survive: a server that restarts, stops answering, is not there yet or lacks JetStream. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { BusSetupError, connectBusWithRetry } from '../../src/bus/index.ts';
import { parseVersion } from '../../src/bus/nats/server-guard.ts';
import type { Delivery } from '../../src/core/ports/bus.ts';
import { natsSkip, startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { freePort } from '../helpers/server-process.ts';
import { eventually, rejectsWith, sleep, unique } from './bus-helpers.ts';

const skip = natsSkip();

/** A logger that keeps what it is given, to assert on the lines (and that no stack trace is among them). */
function recordingLog() {
  const lines: Array<{ level: string; msg: string; obj: unknown }> = [];
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, msg: typeof obj === 'string' ? obj : msg ?? '', obj });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('NATS bus against a real nats-server', { skip }, () => {
  let server: NatsServer;
  before(async () => {
    server = await startNatsServer();
  });
  after(() => server?.dispose());

  test('the server guard: version, JetStream, and 2.9\'s silent drop of per-message TTL', async () => {
    const bus = await connectBusWithRetry(server.url, pino({ level: 'silent' }));
    try {
      assert.equal(bus.facts.version, server.version);
      const [major, minor] = parseVersion(bus.facts.version);
      // 2.9 accepts allow_msg_ttl and drops it: the bus must never rely on per-message TTL there.
      if (major === 2 && minor < 11) assert.equal(bus.facts.perMessageTtl, false, `${bus.facts.version} kept allow_msg_ttl`);
      assert.equal(bus.maxPayload, 1024 * 1024, 'the default max_payload');
    } finally {
      await bus.close();
    }
  });

  test('a server without JetStream is refused with what to do, not a stack trace', async () => {
    const plain = await startNatsServer({ jetstream: false });
    try {
      await assert.rejects(connectBusWithRetry(plain.url, pino({ level: 'silent' })), (err: unknown) => {
        assert.ok(err instanceof BusSetupError);
        assert.match(err.message, /^NATS at 127\.0\.0\.1:\d+ has no JetStream: start nats-server with -js/);
        return true;
      });
    } finally {
      await plain.dispose();
    }
  });

  test('an unreachable NATS: one line per attempt with backoff, then connects once it is up', async () => {
    const port = await freePort();
    const { lines, log } = recordingLog();
    const connecting = connectBusWithRetry(`nats://127.0.0.1:${port}`, log, AbortSignal.timeout(20_000));
    await sleep(1800);
    const late = await startNatsServer({ port });
    try {
      const bus = await connecting;
      await bus.close();
      const retries = lines.filter((l) => l.level === 'warn').map((l) => l.msg);
      assert.ok(retries.length >= 2, retries.join('\n'));
      assert.equal(retries[0], `NATS at 127.0.0.1:${port} is not reachable; retrying in 0.5s`);
      assert.equal(retries[1], `NATS at 127.0.0.1:${port} is not reachable; retrying in 1s`);
      assert.ok(!JSON.stringify(lines.map((l) => l.obj)).includes('    at '), 'no stack trace logged');
    } finally {
      await late.dispose();
    }
  });

  test('a paused (SIGSTOPped) server: requests time out, and work again once it is resumed', async () => {
    const bus = await connectBusWithRetry(server.url, pino({ level: 'silent' }));
    try {
      const subject = unique('r.paused');
      bus.serve(subject, async (d) => d);
      assert.equal(await bus.request(subject, 'a', { timeoutMs: 2000 }), 'a');
      server.pause();
      try {
        await rejectsWith(bus.request(subject, 'b', { timeoutMs: 300 }), 'timeout');
      } finally {
        server.resume();
      }
      assert.equal(await bus.request(subject, 'c', { timeoutMs: 2000 }), 'c');
    } finally {
      await bus.close();
    }
  });

  test('a restart under publish load: nothing added is lost, the client reconnects by itself, nothing acked comes again', async () => {
    const { lines, log } = recordingLog();
    const bus = await connectBusWithRetry(server.url, log);
    const queue = await bus.workQueue(unique('restart'), { ackWaitMs: 1000 });
    const added = new Set<string>();
    const acked = new Set<string>();
    const againAfterAck: string[] = [];
    const addWithRetry = async (id: string) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await queue.add(id, id);
          return void added.add(id);
        } catch {
          if (attempt > 50) throw new Error(`could not add ${id}`);
          await sleep(100); // the same id again: a copy stored before the failure is deduplicated
        }
      }
    };
    for (let i = 0; i < 200; i++) await addWithRetry(`before-${i}`);
    const consumer = queue.consume({ maxInFlight: 5 }, async (d: Delivery) => {
      if (acked.has(d.id)) againAfterAck.push(d.id);
      await sleep(5);
      await d.ack();
      acked.add(d.id);
    });
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        await addWithRetry(`during-${i}`);
        await sleep(5);
      }
    })();
    try {
      await eventually(() => acked.size >= 50, 10_000);
      await server.restart({ downMs: 500 });
      await sleep(1000);
      publishing = false;
      await publisher;
      await eventually(() => [...added].every((id) => acked.has(id)), 30_000);
      assert.ok([...added].filter((id) => id.startsWith('during-')).length > 0, 'messages were added across the restart');
      assert.deepEqual(againAfterAck, [], 'no acked message delivered again');
      assert.ok(lines.some((l) => l.msg.startsWith('reconnected to NATS')), 'reconnected by itself');
      assert.deepEqual(await queue.depth(), { pending: 0, ackPending: 0 });
    } finally {
      publishing = false;
      await publisher.catch(() => {});
      await consumer.stop();
      await bus.close();
    }
  });
});
