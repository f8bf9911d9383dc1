/**
 * What the NATS bus relies on, checked against the server at connect. nats-server 2.9 (Debian 12's
 * 2.9.10) decodes stream and consumer configs leniently: a field it does not know is silently
 * dropped, so a feature is checked by reading the config back, not by the create succeeding.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, nuid, type NatsConnection } from '@nats-io/transport-node';
import { BusSetupError } from './connect.ts';

/** The v3 client's consumers API (consume/fetch/next) needs 2.9.4. */
const MINIMUM = [2, 9, 4] as const;

export interface ServerFacts {
  readonly version: string;
  /** Per-message TTL (Nats-TTL, allow_msg_ttl) is 2.11+: the bus never uses it; reported so a test pins it. */
  readonly perMessageTtl: boolean;
}

export function parseVersion(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  return [major, minor, patch];
}

function atLeast(have: readonly number[], want: readonly number[]): boolean {
  for (let i = 0; i < want.length; i++) if (have[i] !== want[i]) return (have[i] ?? 0) > want[i]!;
  return true;
}

export async function guardServer(nc: NatsConnection, where: string): Promise<{ facts: ServerFacts; jsm: JetStreamManager }> {
  const version = nc.info?.version ?? '0.0.0';
  if (!atLeast(parseVersion(version), MINIMUM)) {
    throw new BusSetupError(`NATS at ${where} is nats-server ${version}; Skyscale needs ${MINIMUM.join('.')} or newer`);
  }
  if (nc.info?.jetstream !== true) {
    throw new BusSetupError(`NATS at ${where} has no JetStream: start nats-server with -js (or a jetstream {} block in its config)`);
  }
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    throw new BusSetupError(`NATS at ${where} has JetStream but this account cannot use it: ${(err as Error).message}`);
  }
  const fail = (what: string) => new BusSetupError(`NATS at ${where} (nats-server ${version}) ${what}; Skyscale's bus relies on it`);
  const id = nuid.next();
  const stream = `SKY_GUARD_${id}`;
  const subject = `sky.guard.${id}`;
  try {
    const info = await jsm.streams.add({
      name: stream,
      subjects: [subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.Memory,
      duplicate_window: nanos(60_000),
      max_age: nanos(120_000),
      allow_msg_ttl: true,
    });
    if (info.config.retention !== RetentionPolicy.Workqueue) throw fail('did not keep retention "workqueue"');
    if (info.config.max_age !== nanos(120_000)) throw fail('did not keep a stream\'s max_age (the key-value buckets\' TTL)');
    if (info.config.duplicate_window !== nanos(60_000)) throw fail('did not keep duplicate_window');
    const consumer = await jsm.consumers.add(stream, {
      durable_name: 'guard',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 10_000,
    });
    if (consumer.config.ack_wait !== nanos(30_000) || consumer.config.max_ack_pending !== 10_000) throw fail('did not keep the work queue consumer\'s ack_wait and max_ack_pending');
    const js = jetstream(nc);
    await js.publish(subject, 'probe', { msgID: 'guard' });
    const second = await js.publish(subject, 'probe', { msgID: 'guard' });
    if (!second.duplicate) throw fail('did not drop a second publish with the same Nats-Msg-Id');
    return { facts: { version, perMessageTtl: info.config.allow_msg_ttl === true }, jsm };
  } finally {
    await jsm.streams.delete(stream).catch(() => {});
  }
}
