import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { sql } from 'kysely';
import { loadConfig, type Config } from './config/config.ts';
import { loadOrCreateKey } from './config/keys.ts';
import { checkPrerequisites, describeMissing } from './config/prerequisites.ts';
import { openStore } from './store/index.ts';
import { AuthService } from './auth/service.ts';
import { FunctionService } from './functions/service.ts';
import { LIMITS as FUNCTION_LIMITS } from './functions/validation.ts';
import { CodeStore } from './functions/code-store.ts';
import { buildApi } from './api/app.ts';
import { ProcessDriver } from './sandbox/process/process-driver.ts';
import { STEM_RUNTIME } from './sandbox/driver.ts';
import { StemPool } from './scheduler/stem-pool.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { ExecutionService } from './executions/service.ts';
import { SyncRecordWriter } from './executions/sync-writer.ts';
import { AsyncWorker } from './executions/async-worker.ts';
import { SecretService } from './secrets/service.ts';
import { SecretCipher } from './secrets/cipher.ts';
import { ObjectService } from './objects/service.ts';
import { sandboxObjectApi } from './objects/sandbox-api.ts';
import { AppError } from './core/errors.ts';
import { PrometheusMetrics } from './metrics/prometheus.ts';
import { meteredInvoker } from './metrics/metered-invoker.ts';
import type { Principal } from './core/types.ts';
import { StreamPools } from './streams/stream-pool.ts';
import { StreamService } from './streams/stream-service.ts';
import { StreamEndpoint } from './streams/endpoint.ts';
import { GatewayServer } from './gateway/server.ts';
import { SyntaxChecker } from './functions/syntax-check.ts';
import { LiveRoutes, ROUTE_POLL_MS } from './gateway/routing-table.ts';
import type { FastifyInstance } from 'fastify';

export interface Platform {
  readonly config: Config;
  readonly controlUrl: string;
  /** The data plane: user HTTP routes and /function/{name} (docs/gateway.md). */
  readonly gatewayUrl: string;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'skyscale' }, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] });
}

/**
 * The composition root: the only place that wires implementations together.
 * Builds every service and the API without listening, so tests can drive it with inject().
 */
export async function assemblePlatform(config: Config, logger: Logger): Promise<{ api: FastifyInstance; gateway: GatewayServer; close(): Promise<void> }> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(config.dbPath);
  // Idle sandbox launchers are processes: a failed assembly must stop them too.
  let closeDriver = async (): Promise<void> => {};
  try {
    const jwtSecret = config.jwtSecret ?? loadOrCreateKey(config.dataDir, 'jwt-secret');
    const auth = new AuthService(store, { ...config, jwtSecret });
    const codeStore = new CodeStore(path.join(config.dataDir, 'code'));
    // Temp dirs a crashed earlier run may have left behind.
    await codeStore.removeStaleTemp();
    const driver = new ProcessDriver({ allowUnsandboxed: config.sandbox === 'none', phpPath: config.phpPath, launchers: config.sandboxLaunchers, logger: { warn: (m) => logger.warn(m) } });
    closeDriver = () => driver.close();
    const functions = new FunctionService(store.functions, codeStore, { maxBytes: config.maxBundleBytes, maxFiles: config.maxBundleFiles, maxTimeoutMs: config.maxTimeoutMs }, store.routes, async (runtime) => {
      const caps = await driver.probe();
      return caps.runtimes[runtime] ? null : (caps.warnings.find((w) => w.includes(`${STEM_RUNTIME[runtime]} runtime`)) ?? 'its interpreter is not installed');
    }, new SyntaxChecker({ phpPath: config.phpPath }));
    const capabilities = await driver.probe();
    // wasm and command functions are specialised from node and python stem cells (STEM_RUNTIME).
    const stemRuntimes = (['node', 'python', 'php'] as const).filter((runtime) => capabilities.runtimes[runtime] !== undefined);
    // Node stem cells at the default function size: a Node stem can only serve its own size (StemPool.fits).
    const stems = new StemPool(driver, { size: config.warmPoolSize, runtimes: stemRuntimes, limits: { memoryMb: 512 }, limitsFor: { node: { memoryMb: FUNCTION_LIMITS.memoryMb.default } }, log: logger });
    const objects = new ObjectService(store.objects, functions, path.join(config.dataDir, 'objects'), config.maxObjectBytes);
    // Stream instances are the scheduler's too (stem cells, MAX_INSTANCES) but each serves one connection.
    let streamPools: StreamPools | undefined;
    const scheduler = new Scheduler({
      driver,
      stems,
      log: logger,
      dedicatedInstances: () => streamPools?.instances() ?? [],
      hostApi: (target, granted) => sandboxObjectApi(objects, { ownerId: target.ownerId, functionId: target.functionId, granted }),
      options: { idleTtlMs: config.instanceIdleTtlSeconds * 1000, maxQueuedPerFunction: config.maxQueuedPerFunction, maxTotalInstances: config.maxInstances, load: config.load },
    });
    const pools = new StreamPools({ source: scheduler, log: logger });
    streamPools = pools;
    const metrics = new PrometheusMetrics({
      instances: () => scheduler.instances().managed.map((i) => ({ id: i.id, functionId: i.functionId, functionName: i.functionName, runtime: i.sandbox.runtime, state: i.sandbox.state, inFlight: i.inFlight, score: i.load.score })),
      stemCells: () => scheduler.instances().stems.map((s) => ({ runtime: s.runtime, state: s.state })),
      waiting: () => scheduler.waiting(),
      asyncQueued: () => store.executions.countQueued(),
      worker: () => ({ utilisation: scheduler.sampler.worker.tracker.ema, score: scheduler.sampler.worker.tracker.score }),
      sampler: () => scheduler.sampler.cost,
    });
    functions.onDeleted = (id) => {
      scheduler.retireFunction(id);
      pools.retireFunction(id);
      void objects.removeFunction(id).catch((err: unknown) => logger.warn({ err, functionId: id }, 'removing object files failed'));
    };
    const writer = new SyncRecordWriter(store.executions, logger);
    const worker: AsyncWorker = new AsyncWorker({
      repo: store.executions,
      run: (fn, event, context) => executions.run(fn, event, { ...context, mode: 'async' }),
      log: logger,
      metrics,
      options: { concurrency: config.asyncConcurrency, retryBaseMs: config.asyncRetryBaseMs, retryMaxMs: 5 * 60_000, leaseGraceMs: 30_000, pollMs: 1000, soleWorker: true },
      loadFunction: async (row) => {
        const fn = await store.functions.findById(row.owner_id, row.function_id);
        const version = fn && (await store.functions.getVersion(row.owner_id, row.function_id, row.version));
        if (fn === undefined || version === undefined) return undefined;
        return { ...fn, ...version, id: fn.id, createdAt: fn.createdAt };
      },
    });
    const secrets = new SecretService(store.secrets, new SecretCipher(config.secretsKey ?? Buffer.from(loadOrCreateKey(config.dataDir, 'secrets-key'), 'base64url')));
    const objectExists = async (owner: Principal, functionId: string, name: string): Promise<boolean> => {
      try {
        await objects.info(owner, functionId, name);
        return true;
      } catch (err) {
        if (err instanceof AppError && (err.status === 404 || err.status === 400)) return false;
        throw err;
      }
    };
    const executions = new ExecutionService({ repo: store.executions, functions, invoker: meteredInvoker(scheduler, metrics), secrets, writer, objectExists, onQueued: () => worker.notify() });
    if (capabilities.isolation === 'none') logger.warn('SANDBOX=none: function code runs WITHOUT isolation. Never do this with untrusted code.');
    else if (!capabilities.usable) logger.error('bubblewrap is not available: functions cannot run. Install it (apt-get install -y bubblewrap) or set SANDBOX=none to run code unsandboxed.');
    logger.info({ sandbox: { isolation: capabilities.isolation, cgroup: capabilities.cgroup.version, memoryLimit: capabilities.memoryLimit, pidsLimit: capabilities.pidsLimit, warnings: capabilities.warnings } }, 'sandbox capabilities');
    if (capabilities.usable) stems.fill();
    worker.start();

    const isReady = async (): Promise<boolean> => {
      try {
        await sql`select 1`.execute(store.db);
        return true;
      } catch {
        return false;
      }
    };
    // The gateway acts for a function's owner: it has already checked the route's auth or the API key.
    const ownerOf = (userId: string): Principal => ({ userId, role: 'user', via: 'api_key' });
    const routes = new LiveRoutes(store.routes, logger);
    functions.onExposureChanged = () => routes.refresh();
    const gateway = new GatewayServer({
      routes,
      maxBodyBytes: config.maxBodyBytes,
      log: logger,
      metrics,
      backend: {
        authenticate: (key) => auth.authenticate(key),
        functionIdByName: (ownerId, name) => functions.getByName(ownerOf(ownerId), name).then((fn) => fn.id, (err: unknown) => {
          if (err instanceof AppError && err.status === 404) return undefined;
          throw err;
        }),
        eventShape: (ownerId, functionId) => functions.get(ownerOf(ownerId), functionId).then((fn) => fn.eventShape),
        invoke: (ownerId, functionId, event) => executions.invokeSync(ownerOf(ownerId), { id: functionId }, event, 'http'),
      },
    });
    await routes.start(ROUTE_POLL_MS);

    // WebSocket streams on the gateway: the same names and auth as /function/{name} (docs/streams.md).
    const streams = new StreamService({ functions, executions, pools, writer, metrics, log: logger, limits: config.stream });
    const streamEndpoint = new StreamEndpoint({ service: streams, log: logger, resolve: (name, key) => gateway.resolveFunction(name, key) });
    gateway.onUpgrade(streamEndpoint.handleUpgrade);

    const api = await buildApi({ logger, auth, functions, executions, secrets, objects, scheduler, driver, streams, isReady, maxBodyBytes: config.maxBodyBytes, maxBundleBytes: config.maxBundleBytes, prometheus: { exposition: () => metrics.exposition(), access: { mode: config.metricsAccess, token: config.metricsToken } } });
    // A process dying of an uncaught error still writes the sync records it already answered.
    const writeOnExit = (): void => void writer.flushSync(true);
    process.on('exit', writeOnExit);
    return {
      api,
      gateway,
      close: async () => {
        await streamEndpoint.close();
        await pools.close();
        routes.stop();
        await gateway.close();
        await api.close();
        await worker.stop();
        await scheduler.close();
        await driver.close();
        await writer.flush();
        process.off('exit', writeOnExit);
        await store.close();
      },
    };
  } catch (err) {
    await closeDriver();
    await store.close();
    throw err;
  }
}

/** `skyscale serve`: every role in this one process (embedded mode). */
export async function startPlatform(config: Config = loadConfig(), logger: Logger = createLogger(config)): Promise<Platform> {
  for (const line of describeMissing(checkPrerequisites())) logger.warn(line);
  const platform = await assemblePlatform(config, logger);
  let gatewayPort: number;
  try {
    await platform.api.listen({ host: config.host, port: config.port });
    gatewayPort = await platform.gateway.listen(config.host, config.gatewayPort);
  } catch (err) {
    await platform.close();
    throw err;
  }
  const address = platform.api.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const hostname = config.host.includes(':') ? `[${config.host}]` : config.host;
  const controlUrl = `http://${hostname}:${port}`;
  const gatewayUrl = `http://${hostname}:${gatewayPort}`;
  logger.info({ controlUrl, gatewayUrl, dataDir: config.dataDir }, 'skyscale control plane and gateway listening');

  let closing: Promise<void> | undefined;
  return {
    config,
    controlUrl,
    gatewayUrl,
    close: () => {
      closing ??= platform.close().then(() => logger.info('skyscale stopped'));
      return closing;
    },
  };
}
