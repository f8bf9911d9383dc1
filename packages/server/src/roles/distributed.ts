import type { Logger } from 'pino';
import { buildApi } from '../api/app.ts';
import { EXECUTIONS_QUEUE } from '../cluster/subjects.ts';
import { InvokeServer } from '../cluster/invoke-server.ts';
import { OutboxRelay } from '../cluster/outbox-relay.ts';
import { QueueConsumer } from '../cluster/queue-consumer.ts';
import { Reaper } from '../cluster/reaper.ts';
import { RemoteInvoker } from '../cluster/remote-invoker.ts';
import { RemoteSessions } from '../cluster/remote-session.ts';
import { SessionServer } from '../cluster/session-server.ts';
import type { Config } from '../config/config.ts';
import { subscribe } from '../core/events.ts';
import { ExecutionService } from '../executions/service.ts';
import { SyncRecordWriter } from '../executions/sync-writer.ts';
import { LiveRoutes, ROUTE_POLL_MS } from '../gateway/routing-table.ts';
import { GatewayServer } from '../gateway/server.ts';
import { StreamEndpoint } from '../gateway/stream-endpoint.ts';
import { instrumentedInvoker } from '../metrics/instrumented-invoker.ts';
import { PrometheusMetrics } from '../metrics/prometheus.ts';
import { objectReader } from '../objects/reader.ts';
import { StreamService } from '../streams/stream-service.ts';
import type { AssembledPlatform } from './embedded.ts';
import { gatewayBackend } from './gateway-backend.ts';
import { buildDataServices, buildDriver, buildWorker, logSandbox, objectExistsIn } from './parts.ts';
import { connectCluster } from './cluster-connection.ts';
import { serveWorkerInfo } from '../cluster/worker-info.ts';
import { drained, shutdown, type Closer } from './shutdown.ts';

/** How long a stopping worker lets the invocations and sessions it runs finish (serve's hard stop comes at 8 s). */
const WORKER_DRAIN_MS = 6_000;
const SYNC_DRAIN_MS = 5_000;

/** What this process runs in distributed mode: the API and gateway listen only with their roles. */
export interface DistributedPlatform extends Partial<AssembledPlatform> {
  close(): Promise<void>;
}

/**
 * `skyscale serve --role …`: the roles given, meeting the others through PostgreSQL (the store) and NATS
 * JetStream (the bus). The only place that wires implementations to ports in distributed mode; the
 * parts are the embedded mode's, with the remote invoker between them (docs/distributed.md).
 */
export async function assembleDistributed(config: Config, logger: Logger, signal: AbortSignal): Promise<DistributedPlatform> {
  const has = (role: 'control' | 'gateway' | 'worker'): boolean => config.roles.includes(role);
  const closers: Closer[] = [];
  try {
    const driver = buildDriver(config, logger);
    closers.push({ name: 'sandbox driver', close: () => driver.close() });
    const cluster = await connectCluster(config, logger, signal, closers, () => driver);
    const { store, bus, stash, leadership } = cluster;
    const workQueue = await bus.workQueue(EXECUTIONS_QUEUE, { ackWaitMs: config.distributed.leaseMs });
    // Other processes may share DATA_DIR: only temp files old enough to be a dead process's are removed.
    const data = await buildDataServices({ config, store, bus, driver, staleTempAgeMs: 60 * 60_000, blobs: { code: cluster.code, objects: cluster.objects } });
    const { auth, codeStore, functions, secrets, objects } = data;
    const platform: DistributedPlatform = { close: () => shutdown(closers, logger) };

    if (has('worker')) {
      const worker = await buildWorker({ config, logger, driver, code: cluster.codeSource(codeStore), secrets, objects: objectReader(objects) });
      closers.push({ name: 'instance pool', close: () => worker.close() });
      logSandbox(logger, worker.capabilities, config.sandbox === 'none');
      subscribe(bus, 'functions.deleted', ({ functionId }) => worker.pool.retireFunction(functionId));
      const invokeServer = new InvokeServer({ bus, workerId: config.worker.id, invoker: worker.invoker, stash, log: logger });
      const sessionServer = new SessionServer({ bus, workerId: config.worker.id, invoker: worker.invoker, log: logger });
      const metrics = new PrometheusMetrics({
        instances: () => worker.pool.instances().managed.map((i) => ({ id: i.id, functionId: i.functionId, functionName: i.functionName, runtime: i.sandbox.runtime, state: i.sandbox.state, inFlight: i.inFlight, score: i.load.score })),
        stemCells: () => worker.pool.instances().stems.map((s) => ({ runtime: s.runtime, state: s.state })),
        waiting: () => worker.pool.waiting(),
        asyncQueued: async () => (await workQueue.depth()).pending,
        worker: () => ({ utilisation: worker.pool.sampler.worker.tracker.ema, score: worker.pool.sampler.worker.tracker.score }),
        sampler: () => worker.pool.sampler.cost,
      });
      const executions = new ExecutionService({ repo: store.executions, functions, invoker: worker.invoker, writer: new SyncRecordWriter(store.executions, logger, { maxPendingBytes: config.syncRecordsBufferBytes }), bus, objectExists: objectExistsIn(objects) });
      const consumer = new QueueConsumer({
        workerId: config.worker.id,
        queue: workQueue,
        maxInFlight: config.worker.maxConcurrentExecutions,
        log: logger,
        run: {
          repo: store.executions,
          run: (fn, event, context) => executions.run(fn, event, { ...context, mode: 'async' }),
          loadFunction: (e) => functions.atVersion(e.ownerId, e.functionId, e.version),
          metrics,
          options: { leaseMs: config.distributed.leaseMs, retryBaseMs: config.asyncRetryBaseMs, retryMaxMs: 5 * 60_000 },
        },
      });
      const info = serveWorkerInfo(bus, config.worker.id, worker.cluster);
      const heartbeat = await cluster.startHeartbeat(worker);
      // A drain, in this order: the registry says so, no new work is taken, the work running finishes.
      closers.push({
        name: 'worker',
        pending: () => invokeServer.running + consumer.running + sessionServer.open,
        close: async () => {
          await heartbeat.drain();
          invokeServer.drain();
          sessionServer.drain();
          await Promise.all([consumer.stop(), drained(() => invokeServer.running === 0 && sessionServer.open === 0, WORKER_DRAIN_MS)]);
          invokeServer.stop();
          sessionServer.stop();
          info.unsubscribe();
          await heartbeat.stop();
        },
      });
    }

    if (has('control') || has('gateway')) {
      const sessions = new RemoteSessions({ bus, picker: cluster.picker, log: logger, livenessCheckMs: config.worker.heartbeatIntervalMs });
      const remote = new RemoteInvoker({ bus, picker: cluster.picker, stash, sessions, log: logger, livenessCheckMs: config.worker.heartbeatIntervalMs });
      const metrics = new PrometheusMetrics({
        instances: () => [],
        stemCells: () => [],
        waiting: () => [],
        asyncQueued: async () => (await workQueue.depth()).pending,
        worker: () => ({ utilisation: null, score: 0 }),
        sampler: () => ({ ticks: 0, totalMs: 0 }),
      });
      const writer = new SyncRecordWriter(store.executions, logger, { maxPendingBytes: config.syncRecordsBufferBytes });
      closers.push({ name: 'execution records', close: () => writer.close() });
      const invoker = instrumentedInvoker(remote, metrics);
      const executions = new ExecutionService({ repo: store.executions, functions, invoker, writer, bus, objectExists: objectExistsIn(objects), outbox: true });
      const streams = new StreamService({ functions, executions, invoker, cluster: cluster.view, writer, log: logger, limits: config.stream });

      if (has('control')) {
        const relay = new OutboxRelay({ repo: store.executions, queue: workQueue, log: logger, pollMs: 500 });
        subscribe(bus, 'executions.queued', () => relay.notify());
        relay.start();
        const reaper = new Reaper({ repo: store.executions, queue: workQueue, leadership, log: logger, everyMs: config.distributed.reapEveryMs });
        closers.push({ name: 'outbox relay', close: () => relay.stop() }, { name: 'reaper', close: () => reaper.stop() });
        cluster.startAutoscaler(workQueue, metrics);
        const api = await buildApi({ logger, auth, functions, executions, secrets, objects, cluster: cluster.view, topology: { mode: 'distributed', store: 'postgres', bus: 'nats' }, workers: cluster.registry, streams, isReady: () => store.ping(), maxBodyBytes: config.maxBodyBytes, maxBundleBytes: config.maxBundleBytes, connections: config.connections, prometheus: { exposition: () => metrics.exposition(), access: { mode: config.metricsAccess, token: config.metricsToken } } });
        closers.push({ name: 'invocations', close: async () => { await api.close(); await drained(() => executions.syncRunning === 0, SYNC_DRAIN_MS); }, pending: () => executions.syncRunning });
        platform.api = api;
      }
      if (has('gateway')) {
        const routes = new LiveRoutes(store.routes, logger);
        subscribe(bus, 'routes.changed', () => routes.refresh());
        const gateway = new GatewayServer({ routes, maxBodyBytes: config.maxBodyBytes, log: logger, metrics, connections: config.connections, backend: gatewayBackend({ auth, functions, executions }) });
        closers.push({ name: 'routing table', close: async () => routes.stop() }, { name: 'gateway', close: () => gateway.close() });
        await routes.start(ROUTE_POLL_MS);
        const streamEndpoint = new StreamEndpoint({ service: streams, log: logger, resolve: (name, key, address) => gateway.resolveFunction(name, key, address) });
        gateway.onUpgrade(streamEndpoint.handleUpgrade);
        closers.push({ name: 'stream sessions', close: () => streamEndpoint.close(), pending: () => streams.open });
        platform.gateway = gateway;
      }
    }
    return platform;
  } catch (err) {
    await shutdown(closers, logger, { quiet: true });
    throw err;
  }
}
