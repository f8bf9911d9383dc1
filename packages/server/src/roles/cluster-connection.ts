import type { Logger } from 'pino';
import { startAutoscaler, createActuator, type RunningAutoscaler } from '../autoscaler/index.ts';
import { openBus } from '../bus/index.ts';
import { replicatedCodeSource } from '../cluster/code-replication.ts';
import { KeyValueHeartbeatStore } from '../cluster/heartbeat-stores.ts';
import type { PayloadStash } from '../cluster/picker.ts';
import { HeartbeatPublisher } from '../cluster/publisher.ts';
import { RegistryClusterView } from '../cluster/registry-cluster-view.ts';
import { RegistryPicker } from '../cluster/registry-picker.ts';
import { WorkerRegistry } from '../cluster/registry.ts';
import { WORKERS_BUCKET } from '../cluster/subjects.ts';
import { RemoteDetails } from '../cluster/worker-info.ts';
import type { Config } from '../config/config.ts';
import { newId } from '../core/ids.ts';
import type { BlobStore, Bus, WorkQueue } from '../core/ports/bus.ts';
import type { CodeSource } from '../core/ports/code.ts';
import type { Leadership } from '../core/ports/leadership.ts';
import type { CodeStore } from '../functions/code-store.ts';
import { PrometheusAutoscalerMetrics } from '../metrics/autoscaler-metrics.ts';
import type { PrometheusMetrics } from '../metrics/prometheus.ts';
import type { SandboxDriver } from '../sandbox/driver.ts';
import { openStoreWithRetry } from '../store/open-retry.ts';
import { AdvisoryLeadership } from '../store/postgres/leadership.ts';
import type { OpenedStore } from '../store/index.ts';
import type { WorkerPart } from './parts.ts';
import type { Closer } from './shutdown.ts';

/** Inputs and results over maxPayload wait this long for their reader before the bucket drops them. */
const TRANSFER_TTL_MS = 60 * 60_000;

/** Distributed mode cannot start: what is missing and how to give it. */
export class DistributedSetupError extends Error {}

/** What every role of a distributed process shares: the store, the bus and what is built on them. */
export interface ClusterConnection {
  store: OpenedStore;
  bus: Bus;
  stash: PayloadStash;
  code: BlobStore;
  objects: BlobStore;
  registry: WorkerRegistry;
  picker: RegistryPicker;
  view: RegistryClusterView;
  leadership: Leadership;
  codeSource(local: CodeStore): CodeSource;
  startHeartbeat(worker: WorkerPart): Promise<HeartbeatPublisher>;
  startAutoscaler(queue: WorkQueue, metrics: PrometheusMetrics): void;
}

/** The settings without which processes of one cluster could not read each other's data. */
function checkSettings(config: Config): { databaseUrl: string; } {
  const missing: string[] = [];
  if (config.store.kind !== 'postgres') missing.push('DATABASE_URL (postgres://…: the roles share one PostgreSQL database)');
  if (config.bus.kind !== 'nats') missing.push('NATS_URL (nats://…: the roles meet on NATS with JetStream)');
  if (config.secretsKey === undefined) missing.push('SECRETS_KEY (the same in every process: workers decrypt the secrets the control stored)');
  if (config.jwtSecret === undefined) missing.push('JWT_SECRET (the same in every process: a token one control signed is checked by the others)');
  if (missing.length > 0) throw new DistributedSetupError(`--role ${config.roles.join(',')} needs ${missing.join('; ')}`);
  return { databaseUrl: config.store.kind === 'postgres' ? config.store.url : '' };
}

export async function connectCluster(config: Config, logger: Logger, signal: AbortSignal, closers: Closer[], driver: () => SandboxDriver): Promise<ClusterConnection> {
  const { databaseUrl } = checkSettings(config);
  const store = await openStoreWithRetry(config.store, { signal, warn: (line) => logger.warn(line) });
  closers.push({ name: 'store', close: () => store.close() });
  const bus = await openBus(config.bus, logger, signal);
  closers.push({ name: 'bus', close: () => bus.close() });
  const interval = config.worker.heartbeatIntervalMs;
  const heartbeats = new KeyValueHeartbeatStore(await bus.keyValue(WORKERS_BUCKET, { ttlMs: Math.max(60_000, 10 * interval) }));
  const registry = new WorkerRegistry({ store: heartbeats, heartbeatIntervalMs: interval });
  const transfers = await bus.blobs('transfers', { ttlMs: TRANSFER_TTL_MS });
  const code = await bus.blobs('code', {});
  const objects = await bus.blobs('objects', {});
  const stash: PayloadStash = {
    put: async (text) => {
      const ref = newId();
      await transfers.put(ref, Buffer.from(text));
      return ref;
    },
    take: async (ref) => {
      const bytes = await transfers.get(ref);
      if (bytes === undefined) throw new Error(`the payload ${ref} is not in the transfers bucket (expired?)`);
      await transfers.delete(ref).catch(() => {});
      return Buffer.from(bytes).toString('utf8');
    },
  };
  let autoscaler: { start(): void; stop(): Promise<void> } | undefined;
  const leadership = config.roles.includes('control')
    ? new AdvisoryLeadership(databaseUrl, Math.min(config.distributed.reapEveryMs, 5_000), (leader) => {
      logger.info({ leader }, leader ? 'this control process leads the cluster (reaper, autoscaler)' : 'this control process no longer leads the cluster');
      if (leader) autoscaler?.start();
      else void autoscaler?.stop();
    })
    : { leader: false, stop: async () => {} };
  closers.push({ name: 'leadership', close: () => leadership.stop() });
  const view = new RegistryClusterView({ registry, load: config.load, details: new RemoteDetails({ bus, workers: () => registry.live(), ownSystem: async () => ({ sandbox: await driver().probe(), node: process.version, platform: `${process.platform}-${process.arch}` }), log: logger }) });
  return {
    store, bus, stash, code, objects, registry, leadership, view,
    picker: new RegistryPicker(registry),
    codeSource: (local) => replicatedCodeSource(local, code),
    startHeartbeat: async (worker) => {
      const publisher = new HeartbeatPublisher({ store: heartbeats, pool: worker.pool, identity: { settings: config.worker, roles: config.roles }, log: logger });
      await publisher.start();
      return publisher;
    },
    startAutoscaler: (queue, metrics) => {
      const settings = config.autoscaler;
      let running: RunningAutoscaler | undefined;
      const actuator = createActuator(settings.actuator, { log: logger });
      autoscaler = {
        start: () => {
          running ??= startAutoscaler({
            settings,
            actuator,
            log: logger,
            metrics: new PrometheusAutoscalerMetrics(metrics.registry),
            workers: async () => (await registry.ready()).filter((w) => w.roles.includes('worker')).length,
            demand: {
              demand: async () => {
                const [depth, live] = await Promise.all([queue.depth(), registry.live()]);
                return { ...depth, syncQueued: live.reduce((sum, w) => sum + w.queued, 0) };
              },
            },
          });
        },
        stop: async () => {
          const was = running;
          running = undefined;
          await was?.stop();
        },
      };
      if (leadership.leader) autoscaler.start();
      closers.push({ name: 'autoscaler', close: async () => { await autoscaler?.stop(); await actuator.stop?.(); } });
    },
  };
}
