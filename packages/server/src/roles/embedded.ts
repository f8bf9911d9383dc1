import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from '../api/app.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import type { Config } from '../config/config.ts';
import { subscribe } from '../core/events.ts';
import { AsyncWorker } from '../executions/async-worker.ts';
import { ExecutionService } from '../executions/service.ts';
import { SyncRecordWriter } from '../executions/sync-writer.ts';
import { LiveRoutes, ROUTE_POLL_MS } from '../gateway/routing-table.ts';
import { GatewayServer } from '../gateway/server.ts';
import { instrumentedInvoker } from '../metrics/instrumented-invoker.ts';
import { PrometheusMetrics } from '../metrics/prometheus.ts';
import { objectReader } from '../objects/reader.ts';
import { lockDataDir } from '../store/data-dir-lock.ts';
import { openStoreWithRetry } from '../store/index.ts';
import { StreamEndpoint } from '../gateway/stream-endpoint.ts';
import { StreamService } from '../streams/stream-service.ts';
import { gatewayBackend } from './gateway-backend.ts';
import { HeartbeatPublisher } from '../cluster/publisher.ts';
import { MemoryHeartbeatStore } from '../cluster/heartbeat-stores.ts';
import { WorkerRegistry } from '../cluster/registry.ts';
import { ROLES } from '../config/options.ts';
import { buildDataServices, buildDriver, buildWorker, logSandbox, objectExistsIn } from './parts.ts';
import { drained, shutdown, type Closer } from './shutdown.ts';

/** How long a graceful stop waits for sync invocations in flight (the CLI's hard stop comes at 8 s). */
const SYNC_DRAIN_MS = 5_000;

export interface AssembledPlatform {
  api: FastifyInstance;
  gateway: GatewayServer;
  close(): Promise<void>;
}

/**
 * `skyscale serve`: every role in this one process, on SQLite and the in-process bus. Builds every part
 * without listening, so tests can drive the API with inject(). The only place that wires implementations
 * to ports in the embedded mode.
 */
export async function assembleEmbedded(config: Config, logger: Logger): Promise<AssembledPlatform> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // The lock keeps a second process off a SQLite file; PostgreSQL is shared by design.
  const exclusive = config.store.kind === 'sqlite';
  const lock = exclusive ? lockDataDir(config.dataDir) : null;
  // Stopped in the reverse of this order, also after a failed assembly: requests first, the store last.
  const closers: Closer[] = lock === null ? [] : [{ name: 'data directory lock', close: async () => lock.release() }];
  try {
    // PostgreSQL may come up after this process (Docker Compose): waited for, one log line per attempt.
    const store = await openStoreWithRetry(config.store, { warn: (line) => logger.warn(line) });
    closers.push({ name: 'store', close: () => store.close() });
    const bus = new MemoryBus(logger);
    closers.push({ name: 'bus', close: () => bus.close() });
    const writer = new SyncRecordWriter(store.executions, logger, { maxPendingBytes: config.syncRecordsBufferBytes });
    // A process dying of an uncaught error still writes the sync records it already answered.
    const writeOnExit = (): void => void writer.flushSync(true);
    process.on('exit', writeOnExit);
    closers.push({ name: 'exit hook', close: async () => void process.off('exit', writeOnExit) }, { name: 'execution records', close: () => writer.close() });
    const driver = buildDriver(config, logger);
    closers.push({ name: 'sandbox driver', close: () => driver.close() });
    // The DATA_DIR lock makes this process its only user: every temp file left there is a dead process's.
    // Without it (PostgreSQL), another process may be writing one: only old ones go.
    const { auth, codeStore, functions, secrets, objects } = await buildDataServices({ config, store, bus, driver, staleTempAgeMs: exclusive ? 0 : 3_600_000 });
    const worker = await buildWorker({ config, logger, driver, code: { dir: (code) => codeStore.local(code) }, secrets, objects: objectReader(objects) });
    const { pool } = worker;
    closers.push({ name: 'instance pool', close: () => worker.close() });
    logSandbox(logger, worker.capabilities, config.sandbox === 'none');
    // The one worker of the embedded mode heartbeats into memory; GET /workers lists it like any registry.
    const heartbeats = new MemoryHeartbeatStore({ ttlMs: 10 * config.worker.heartbeatIntervalMs });
    const registry = new WorkerRegistry({ store: heartbeats, heartbeatIntervalMs: config.worker.heartbeatIntervalMs });
    const publisher = new HeartbeatPublisher({ store: heartbeats, pool, identity: { settings: config.worker, roles: ROLES }, log: logger });
    await publisher.start();
    closers.push({ name: 'heartbeats', close: () => publisher.stop() });

    const metrics = new PrometheusMetrics({
      instances: () => pool.instances().managed.map((i) => ({ id: i.id, functionId: i.functionId, functionName: i.functionName, runtime: i.sandbox.runtime, state: i.sandbox.state, inFlight: i.inFlight, score: i.load.score })),
      stemCells: () => pool.instances().stems.map((s) => ({ runtime: s.runtime, state: s.state })),
      waiting: () => pool.waiting(),
      asyncQueued: () => store.executions.countQueued(),
      worker: () => ({ utilisation: pool.sampler.worker.tracker.ema, score: pool.sampler.worker.tracker.score }),
      sampler: () => pool.sampler.cost,
    });
    const invoker = instrumentedInvoker(worker.invoker, metrics);
    const executions = new ExecutionService({ repo: store.executions, functions, invoker, writer, bus, objectExists: objectExistsIn(objects) });
    const asyncWorker = new AsyncWorker({
      repo: store.executions,
      run: (fn, event, context) => executions.run(fn, event, { ...context, mode: 'async' }),
      loadFunction: (e) => functions.atVersion(e.ownerId, e.functionId, e.version),
      log: logger,
      metrics,
      options: { concurrency: config.asyncConcurrency, ownerShare: config.ownerShare, retryBaseMs: config.asyncRetryBaseMs, retryMaxMs: 5 * 60_000, leaseMs: 30_000, pollMs: 1000, reclaimAllAtStart: true },
    });
    subscribe(bus, 'executions.queued', () => asyncWorker.notify());
    subscribe(bus, 'functions.deleted', ({ functionId }) => {
      pool.retireFunction(functionId);
      void objects.removeFunction(functionId).catch((err: unknown) => logger.warn({ err, functionId }, 'removing object files failed'));
    });
    asyncWorker.start();
    closers.push({ name: 'async executions', close: () => asyncWorker.stop(), pending: () => asyncWorker.running });

    const routes = new LiveRoutes(store.routes, logger);
    subscribe(bus, 'routes.changed', () => routes.refresh());
    const gateway = new GatewayServer({ routes, maxBodyBytes: config.maxBodyBytes, log: logger, metrics, connections: config.connections, backend: gatewayBackend({ auth, functions, executions }) });
    closers.push({ name: 'routing table', close: async () => routes.stop() }, { name: 'gateway', close: () => gateway.close() });
    await routes.start(ROUTE_POLL_MS);

    // WebSocket streams on the gateway: the same names and auth as /function/{name} (docs/streams.md).
    const streams = new StreamService({ functions, executions, invoker, cluster: worker.cluster, writer, log: logger, limits: config.stream });
    const streamEndpoint = new StreamEndpoint({ service: streams, log: logger, resolve: (name, key, address) => gateway.resolveFunction(name, key, address) });
    gateway.onUpgrade(streamEndpoint.handleUpgrade);
    closers.push({ name: 'stream sessions', close: () => streamEndpoint.close(), pending: () => streams.open });

    const api = await buildApi({ logger, auth, functions, executions, secrets, objects, cluster: worker.cluster, topology: { mode: 'embedded', store: config.store.kind, bus: 'memory' }, workers: registry, streams, isReady: () => store.ping(), maxBodyBytes: config.maxBodyBytes, maxBundleBytes: config.maxBundleBytes, connections: config.connections, prometheus: { exposition: () => metrics.exposition(), access: { mode: config.metricsAccess, token: config.metricsToken } } });
    // The API stops taking requests, then the invocations already running get a moment to answer.
    closers.push({ name: 'invocations', close: async () => { void publisher.drain(); await api.close(); await drained(() => executions.syncRunning === 0, SYNC_DRAIN_MS); }, pending: () => executions.syncRunning });
    return { api, gateway, close: () => shutdown(closers, logger) };
  } catch (err) {
    await shutdown(closers, logger, { quiet: true });
    throw err;
  }
}
