import path from 'node:path';
import type { Logger } from 'pino';
import { AuthService } from '../auth/service.ts';
import { sandboxNotice } from '../config/prerequisites.ts';
import type { Config } from '../config/config.ts';
import { loadOrCreateJwtSecret, loadOrCreateSecretsKey } from '../config/keys.ts';
import { AppError } from '../core/errors.ts';
import type { CodeSource } from '../core/ports/code.ts';
import type { ObjectReader } from '../core/ports/objects.ts';
import type { SecretResolver } from '../core/ports/secrets.ts';
import type { BlobStore, Bus } from '../core/ports/bus.ts';
import { ReplicatedCodeStore } from '../cluster/code-replication.ts';
import { publish, subscribe } from '../core/events.ts';
import type { Principal } from '../core/types.ts';
import { CodeStore } from '../functions/code-store.ts';
import { FunctionService } from '../functions/service.ts';
import { SyntaxChecker } from '../functions/syntax-check.ts';
import { LIMITS as FUNCTION_LIMITS } from '../functions/validation.ts';
import { ObjectService } from '../objects/service.ts';
import { STEM_RUNTIME, type SandboxCapabilities, type SandboxDriver } from '../sandbox/driver.ts';
import { BOOT_CPU_QUOTA_PERCENT } from '../sandbox/limits.ts';
import { ProcessDriver } from '../sandbox/process/process-driver.ts';
import { SecretCipher } from '../secrets/cipher.ts';
import { SecretService } from '../secrets/service.ts';
import type { Store } from '../core/ports/store.ts';
import { LocalClusterView } from '../worker/cluster-view.ts';
import { InstancePool } from '../worker/instance-pool.ts';
import { LocalInvoker } from '../worker/local-invoker.ts';
import { StemPool } from '../worker/stem-pool.ts';

/** Builders shared by the composition roots (roles/*.ts); each takes what it needs and wires nothing else. */

export function buildDriver(config: Config, logger: Logger): ProcessDriver {
  return new ProcessDriver({ allowUnsandboxed: config.sandbox === 'none', workDir: config.sandboxDir, phpPath: config.phpPath, bwrapPath: config.bwrapPath, launchers: config.sandboxLaunchers, logger: { warn: (m) => logger.warn(m) } });
}

/** Distributed mode's copies of code and objects, for processes that do not share DATA_DIR. */
export interface ClusterBlobs {
  code: BlobStore;
  objects: BlobStore;
}

/** The store-backed services of the control plane. */
export interface DataServices {
  auth: AuthService;
  codeStore: CodeStore;
  functions: FunctionService;
  secrets: SecretService;
  objects: ObjectService;
}

/**
 * `staleTempAgeMs`: how old a temp file (of a deploy or an upload) must be before start-up removes it as
 * a dead process's leftover; 0 when this process holds DATA_DIR exclusively (the embedded mode's lock).
 */
export async function buildDataServices(deps: { config: Config; store: Store; bus: Bus; driver: SandboxDriver; staleTempAgeMs: number; blobs?: ClusterBlobs }): Promise<DataServices> {
  const { config, store, bus, driver, staleTempAgeMs, blobs } = deps;
  const jwtSecret = config.jwtSecret ?? loadOrCreateJwtSecret(config.dataDir);
  const auth = new AuthService(store, { ...config, jwtSecret }, (keyId) => publish(bus, 'apiKeys.revoked', { keyId }));
  subscribe(bus, 'apiKeys.revoked', ({ keyId }) => auth.forgetKey(keyId));
  const codeDir = path.join(config.dataDir, 'code');
  const codeStore = blobs === undefined ? new CodeStore(codeDir) : new ReplicatedCodeStore(codeDir, blobs.code);
  // Temp dirs a crashed earlier run may have left behind.
  await codeStore.removeStaleTemp(staleTempAgeMs);
  const functions = new FunctionService({
    repo: store.functions,
    code: codeStore,
    routes: store.routes,
    bus,
    limits: { maxBytes: config.maxBundleBytes, maxFiles: config.maxBundleFiles, maxTimeoutMs: config.maxTimeoutMs, cpuQuota: config.cpuQuota },
    runtimeCheck: async (runtime) => {
      const caps = await driver.probe();
      return caps.runtimes[runtime] ? null : (caps.warnings.find((w) => w.includes(`${STEM_RUNTIME[runtime]} runtime`)) ?? 'its interpreter is not installed');
    },
    syntax: new SyntaxChecker({ phpPath: config.phpPath }),
  });
  subscribe(bus, 'functions.changed', ({ functionId }) => functions.forget(functionId));
  subscribe(bus, 'functions.deleted', ({ functionId }) => functions.forget(functionId));
  const secrets = new SecretService(store.secrets, new SecretCipher(config.secretsKey ?? loadOrCreateSecretsKey(config.dataDir)));
  const objects = new ObjectService(store.objects, functions, path.join(config.dataDir, 'objects'), config.maxObjectBytes, blobs?.objects);
  await objects.removeStaleUploads(staleTempAgeMs);
  return { auth, codeStore, functions, secrets, objects };
}

/** One node's engine: stem cells, the instance pool, the local invoker and what it shows of itself. */
export interface WorkerPart {
  capabilities: SandboxCapabilities;
  stems: StemPool;
  pool: InstancePool;
  invoker: LocalInvoker;
  cluster: LocalClusterView;
  close(): Promise<void>;
}

export async function buildWorker(deps: { config: Config; logger: Logger; driver: SandboxDriver; code: CodeSource; secrets: SecretResolver; objects?: ObjectReader }): Promise<WorkerPart> {
  const { config, logger, driver } = deps;
  const capabilities = await driver.probe();
  // wasm and command functions are specialised from node and python stem cells (STEM_RUNTIME).
  const stemRuntimes = (['node', 'python', 'php'] as const).filter((runtime) => capabilities.runtimes[runtime] !== undefined);
  // Node stem cells at the default function size: a Node stem can only serve its own size (StemPool.fits).
  // They boot under the boot CPU quota; the function's own is set when one is specialised.
  const boot = { cpuQuotaPercent: BOOT_CPU_QUOTA_PERCENT };
  const stems = new StemPool(driver, { size: config.warmPoolSize, runtimes: stemRuntimes, limits: { memoryMb: 512, ...boot }, limitsFor: { node: { memoryMb: FUNCTION_LIMITS.memoryMb.default, ...boot } }, log: logger });
  const pool = new InstancePool({
    driver,
    stems,
    code: deps.code,
    objects: deps.objects,
    log: logger,
    options: { idleTtlMs: config.instanceIdleTtlSeconds * 1000, maxQueuedPerFunction: config.maxQueuedPerFunction, maxQueued: config.maxQueued, maxTotalInstances: config.maxInstances, ownerShare: config.ownerShare, cpu: config.cpuQuota, load: config.load, hostApi: config.hostApi },
  });
  const invoker = new LocalInvoker({ pool, secrets: deps.secrets, log: logger, workerId: config.worker.id });
  if (capabilities.usable) stems.fill();
  return { capabilities, stems, pool, invoker, cluster: new LocalClusterView(pool, driver, config.worker.id), close: () => pool.close() };
}

/** What `npm start` says about the sandbox: one line that is true, and what to do when functions cannot run. */
export function logSandbox(logger: Logger, capabilities: SandboxCapabilities, unsandboxedOptIn: boolean): void {
  const notice = sandboxNotice(capabilities, unsandboxedOptIn);
  if (notice) logger[notice.level](notice.message);
  logger.info({ sandbox: { isolation: capabilities.isolation, cgroup: capabilities.cgroup.version, memoryLimit: capabilities.memoryLimit, pidsLimit: capabilities.pidsLimit, warnings: capabilities.warnings } }, 'sandbox capabilities');
}

/** Whether the owner can see this object (seed-001 `object_inputs` are checked before work is accepted). */
export function objectExistsIn(objects: ObjectService) {
  return async (owner: Principal, functionId: string, name: string): Promise<boolean> => {
    try {
      await objects.info(owner, functionId, name);
      return true;
    } catch (err) {
      if (err instanceof AppError && (err.status === 404 || err.status === 400)) return false;
      throw err;
    }
  };
}
