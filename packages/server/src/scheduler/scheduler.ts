import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { RequestListener } from 'node:http';
import type { InvocationContext, InvocationResult, InvocationTarget, Invoker } from '../core/invoker.ts';
import { RuntimeUnavailableError, type SandboxDriver, type SandboxRuntime } from '../sandbox/driver.ts';
import { ManagedInstance } from './managed-instance.ts';
import { LoadSampler } from './load-sampler.ts';
import { DEFAULT_LOAD_SETTINGS, type LoadSettings } from './load.ts';
import { place } from './placement.ts';
import { toInvocationResult, platformFailure } from './outcome.ts';
import type { StemPool } from './stem-pool.ts';
import { WaitQueue } from './waiters.ts';

export interface SchedulerOptions {
  idleTtlMs: number;
  maxQueuedPerFunction: number;
  maxTotalInstances: number;
  load?: LoadSettings;
}

interface VersionPool {
  functionId: string;
  functionName: string;
  instances: ManagedInstance[];
  starting: number;
  waiters: WaitQueue;
}

/** Builds the host API an instance of `target` may call; `granted` lists what its in-flight invocations were given. */
export type HostApiFactory = (target: InvocationTarget, granted: () => Iterable<string>) => RequestListener;

export type Started = { instance: ManagedInstance } | { failure: InvocationResult };
type Acquired = { instance: ManagedInstance; coldStart: boolean } | { failure: InvocationResult };

const SANDBOX_RUNTIMES: ReadonlySet<string> = new Set<SandboxRuntime>(['node', 'python', 'php', 'wasm', 'command']);

/**
 * Places invocations on instances: the least loaded warm instance of the same function version with
 * a free slot (placement.ts), else a stem cell specialised for it, else a cold start; past
 * `maxInstances` the invocation waits in a bounded queue (429 beyond it). A version never runs on
 * another version's instance. When every instance is saturated it scales out in the background.
 */
export class Scheduler implements Invoker {
  readonly #driver: SandboxDriver;
  readonly #stems: StemPool;
  readonly #log: Logger;
  readonly #options: SchedulerOptions;
  readonly #pools = new Map<string, VersionPool>();
  /** Pools per function id: with one, there is no older version to look for on each invocation. */
  readonly #poolsPerFunction = new Map<string, number>();
  readonly #reaper: NodeJS.Timeout;
  readonly #hostApi: HostApiFactory | undefined;
  readonly #load: LoadSettings;
  readonly sampler: LoadSampler;
  /** Instances started for others (stream sessions): counted against maxTotalInstances, listed and sampled, never placed on. */
  readonly #dedicated: () => ManagedInstance[];

  constructor(deps: { driver: SandboxDriver; stems: StemPool; log: Logger; options: SchedulerOptions; hostApi?: HostApiFactory; dedicatedInstances?: () => ManagedInstance[] }) {
    this.#driver = deps.driver;
    this.#dedicated = deps.dedicatedInstances ?? (() => []);
    this.#hostApi = deps.hostApi;
    this.#stems = deps.stems;
    this.#log = deps.log;
    this.#options = deps.options;
    this.#load = deps.options.load ?? DEFAULT_LOAD_SETTINGS;
    this.#reaper = setInterval(() => this.#reapIdle(), Math.min(1000, this.#options.idleTtlMs)).unref();
    this.sampler = new LoadSampler(this.#load, () => this.instances());
    this.sampler.start();
  }

  get loadSettings(): LoadSettings {
    return this.#load;
  }

  async invoke(target: InvocationTarget, event: unknown, context: InvocationContext): Promise<InvocationResult> {
    const startedAt = performance.now();
    const elapsed = () => performance.now() - startedAt;
    if (!SANDBOX_RUNTIMES.has(target.runtime)) {
      return platformFailure('runtime_unavailable', `The ${target.runtime} runtime cannot run functions on this server yet`, { coldStart: false, instanceId: null, durationMs: 0 });
    }
    const acquired = await this.#acquire(target, context.deadline);
    if ('failure' in acquired) return { ...acquired.failure, durationMs: elapsed() };
    const { instance, coldStart } = acquired;
    if (context.objectRefs?.length) instance.grants.set(context.executionId, context.objectRefs);
    try {
      const outcome = await instance.sandbox.invoke({ executionId: context.executionId, event, eventJson: context.eventJson, deadlineMs: context.deadline });
      instance.invocations++;
      return toInvocationResult(outcome, { coldStart, instanceId: instance.id, durationMs: elapsed() });
    } catch (err) {
      this.#log.error({ err, instanceId: instance.id }, 'invoke failed inside the platform');
      void instance.sandbox.kill('platform error');
      return platformFailure('platform_error', 'The platform failed to run the invocation', { coldStart, instanceId: instance.id, durationMs: elapsed() });
    } finally {
      instance.grants.delete(context.executionId);
      this.#release(instance);
    }
  }

  #pool(key: string, target: InvocationTarget): VersionPool {
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = { functionId: target.functionId, functionName: target.functionName, instances: [], starting: 0, waiters: new WaitQueue() };
      this.#pools.set(key, pool);
      this.#poolsPerFunction.set(target.functionId, (this.#poolsPerFunction.get(target.functionId) ?? 0) + 1);
    }
    return pool;
  }

  async #acquire(target: InvocationTarget, deadline: number): Promise<Acquired> {
    const key = `${target.functionId}@${target.version}#${target.envDigest}`;
    const pool = this.#pool(key, target);
    this.#retireOlderVersions(target);
    for (;;) {
      const { pick, saturated } = place(pool.instances, target.concurrency);
      if (pick !== undefined) {
        // Every instance is saturated: serve on the least loaded one now and start another in the
        // background, so load spreads over processes (cores) without this invocation waiting for a cold start.
        if (saturated && pool.starting === 0 && this.#hasRoom(pool, target)) this.#scaleOut(target, key, pool);
        pick.inFlight++;
        return { instance: pick, coldStart: false };
      }
      if (this.#hasRoom(pool, target) && (this.#total() < this.#options.maxTotalInstances || this.#evictIdle())) {
        pool.starting++;
        let started: Started;
        try {
          started = await this.#start(target, key, deadline);
        } finally {
          pool.starting--;
        }
        if ('failure' in started) {
          pool.waiters.wakeOne();
          return started;
        }
        started.instance.inFlight++;
        pool.instances.push(started.instance);
        return { instance: started.instance, coldStart: true };
      }
      if (pool.waiters.length >= this.#options.maxQueuedPerFunction) {
        throw new AppError('RATE_LIMITED', `Too many invocations of ${target.functionName} are waiting; retry shortly`, { headers: { 'retry-after': '1' } });
      }
      if (!(await pool.waiters.wait(deadline))) {
        return { failure: { status: 'timed_out', result: null, error: { reason: 'queue_timeout', message: 'No instance became free before the deadline' }, logs: '', logsTruncated: false, durationMs: 0, coldStart: false, instanceId: null } };
      }
    }
  }

  #hasRoom(pool: VersionPool, target: InvocationTarget): boolean {
    return pool.instances.length + pool.starting < target.maxInstances;
  }

  #scaleOut(target: InvocationTarget, key: string, pool: VersionPool): void {
    if (this.#total() >= this.#options.maxTotalInstances) return;
    pool.starting++;
    void this.#start(target, key, Date.now() + Math.max(target.timeoutMs, 10_000))
      .then((started) => {
        if ('instance' in started) {
          pool.instances.push(started.instance);
          if (this.#pools.get(key) !== pool) void started.instance.sandbox.kill('pool closed');
        }
      })
      .catch((err: unknown) => this.#log.warn({ err }, 'scaling out failed'))
      .finally(() => {
        pool.starting--;
        pool.waiters.wakeOne();
      });
  }

  async #start(target: InvocationTarget, key: string, deadline: number): Promise<Started> {
    const runtime = target.runtime as SandboxRuntime;
    const meta = { coldStart: true, instanceId: null, durationMs: 0 };
    // Stem cells are narrowed to the function's limit at load (Node's only serve their own size).
    let sandbox = this.#stems.fits(runtime, target.memoryMb) ? this.#stems.take(runtime) : undefined;
    try {
      sandbox ??= await this.#driver.start({ id: `fn-${newId().slice(0, 13)}`, runtime, limits: { memoryMb: target.memoryMb } });
    } catch (err) {
      this.#log.error({ err, functionId: target.functionId }, 'starting an instance failed');
      const reason = err instanceof RuntimeUnavailableError ? 'runtime_unavailable' : 'sandbox_unavailable';
      return { failure: platformFailure(reason, err instanceof Error ? err.message : 'The sandbox could not start', meta) };
    }
    const grants = new Map<string, string[]>();
    const hostApi = this.#hostApi?.(target, () => [...grants.values()].flat());
    const loaded = await sandbox.load({
      runtime,
      codeDir: target.codeDir,
      handler: target.handler,
      env: target.env,
      functionName: target.functionName,
      functionVersion: String(target.version),
      deadlineMs: deadline,
      limits: { memoryMb: target.memoryMb },
      hostApi,
    });
    if (loaded.kind !== 'loaded') {
      void sandbox.kill('load failed');
      return { failure: toInvocationResult(loaded, { ...meta, instanceId: sandbox.id }) };
    }
    const instance = new ManagedInstance(sandbox, target, key, this.#load, grants);
    void sandbox.exited.then(() => this.#remove(instance));
    return { instance };
  }

  /**
   * Starts and loads an instance of `target` that no pool of this scheduler knows: the caller owns it
   * exclusively (a stream session) and kills it when done. Counted through `dedicatedInstances`.
   */
  startDedicated(target: InvocationTarget, deadline: number): Promise<Started> {
    return this.#start(target, `dedicated:${target.functionId}`, deadline);
  }

  /** Whether one more instance fits under maxTotalInstances. */
  hasRoom(): boolean {
    return this.#total() < this.#options.maxTotalInstances;
  }

  #release(instance: ManagedInstance): void {
    instance.inFlight--;
    instance.lastUsedAt = Date.now();
    if (!instance.alive) this.#remove(instance);
    this.#pools.get(instance.key)?.waiters.wakeOne();
  }

  #remove(instance: ManagedInstance): void {
    const pool = this.#pools.get(instance.key);
    if (pool === undefined) return;
    const at = pool.instances.indexOf(instance);
    if (at >= 0) pool.instances.splice(at, 1);
    pool.waiters.wakeOne();
    if (pool.instances.length === 0 && pool.starting === 0 && pool.waiters.length === 0) this.#deletePool(instance.key, pool);
  }

  #deletePool(key: string, pool: VersionPool): void {
    this.#pools.delete(key);
    const left = (this.#poolsPerFunction.get(pool.functionId) ?? 1) - 1;
    if (left > 0) this.#poolsPerFunction.set(pool.functionId, left);
    else this.#poolsPerFunction.delete(pool.functionId);
  }

  #total(): number {
    let n = this.#dedicated().length;
    for (const pool of this.#pools.values()) n += pool.instances.length + pool.starting;
    return n;
  }

  /** Frees room for a new instance by stopping the least recently used idle one. */
  #evictIdle(): boolean {
    let victim: ManagedInstance | undefined;
    for (const pool of this.#pools.values()) {
      for (const i of pool.instances) if (i.inFlight === 0 && (victim === undefined || i.lastUsedAt < victim.lastUsedAt)) victim = i;
    }
    if (victim === undefined) return false;
    this.#remove(victim);
    void victim.sandbox.kill('evicted for capacity');
    return true;
  }

  #retireOlderVersions(target: InvocationTarget): void {
    if ((this.#poolsPerFunction.get(target.functionId) ?? 0) <= 1) return;
    for (const [key, pool] of this.#pools) {
      if (!key.startsWith(`${target.functionId}@`) || key.startsWith(`${target.functionId}@${target.version}#`)) continue;
      for (const i of [...pool.instances]) {
        if (i.version < target.version && i.inFlight === 0) {
          this.#remove(i);
          void i.sandbox.kill('superseded by a newer version');
        }
      }
    }
  }

  /** A deleted function's idle instances stop now instead of idling until the TTL; busy ones are reaped when idle. */
  retireFunction(functionId: string): void {
    for (const [key, pool] of this.#pools) {
      if (!key.startsWith(`${functionId}@`)) continue;
      for (const i of [...pool.instances]) {
        if (i.inFlight === 0) {
          this.#remove(i);
          void i.sandbox.kill('function deleted');
        }
      }
    }
  }

  #reapIdle(): void {
    const cutoff = Date.now() - this.#options.idleTtlMs;
    for (const pool of this.#pools.values()) {
      for (const i of [...pool.instances]) {
        if (i.inFlight === 0 && i.lastUsedAt < cutoff) {
          this.#remove(i);
          void i.sandbox.kill('idle');
        }
      }
    }
  }

  /** Every instance the scheduler runs, specialised ones first. */
  instances(): { managed: ManagedInstance[]; stems: ReturnType<StemPool['instances']> } {
    return { managed: [...[...this.#pools.values()].flatMap((p) => p.instances), ...this.#dedicated()], stems: this.#stems.instances() };
  }

  /** Invocations waiting for capacity, per function version pool. */
  waiting(): Array<{ functionId: string; functionName: string; waiters: number }> {
    return [...this.#pools.values()].map((p) => ({ functionId: p.functionId, functionName: p.functionName, waiters: p.waiters.length }));
  }

  async close(): Promise<void> {
    clearInterval(this.#reaper);
    this.sampler.stop();
    const all = [...this.#pools.values()].flatMap((p) => p.instances);
    for (const pool of this.#pools.values()) pool.waiters.wakeAll();
    this.#pools.clear();
    this.#poolsPerFunction.clear();
    await Promise.allSettled([...all.map((i) => i.sandbox.kill('platform stopping')), this.#stems.close()]);
  }
}
