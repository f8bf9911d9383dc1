import type { Logger } from 'pino';
import type { PoolOptions } from '../config/options.ts';
import { failure, rejection, type InvocationResult, type InvocationTarget, type Rejection } from '../core/invocation.ts';
import type { CodeSource } from '../core/ports/code.ts';
import type { ObjectReader } from '../core/ports/objects.ts';
import type { SandboxDriver } from '../sandbox/driver.ts';
import { InstanceLoader, type AcquireSpec, type Started } from './instance-loader.ts';
import { LoadSampler } from './load-sampler.ts';
import type { LeaseKind, ManagedInstance } from './managed-instance.ts';
import { OwnerShares } from './owner-shares.ts';
import { place } from './placement.ts';
import type { StemPool } from './stem-pool.ts';
import { idleInstances, newVersionPool, poolKey, policyOf, reapable, sizeOf, type VersionPool } from './version-pool.ts';

export type { AcquireSpec };

/** An instance leased for one invocation (shared up to its concurrency) or one session (exclusive). */
export interface Lease {
  readonly instance: ManagedInstance;
  readonly coldStart: boolean;
  /** Gives the instance back; idempotent. */
  release(): void;
}

export type Acquired = Lease | Rejection | { failure: InvocationResult };


const SESSION_START_TIMEOUT_MS = 30_000;

/**
 * The per-node instance pool, for every kind of work (OpenWhisk's ContainerPool). A shared lease goes
 * to the least loaded warm instance of the same version with a free slot (placement.ts), else a stem
 * cell specialised for it, else a cold start; past `maxInstances` it waits in a bounded queue. An
 * exclusive lease takes an idle instance of the version's session pool, or starts one, and keeps
 * `minFree` spares ready while sessions are open. One reaper, one instance cap, one version retirement;
 * every owner within its share of the instances and of the queue (owner-shares.ts).
 */
export class InstancePool {
  readonly #stems: StemPool;
  readonly #loader: InstanceLoader;
  readonly #log: Logger;
  readonly #options: PoolOptions;
  readonly #shares: OwnerShares;
  readonly #pools = new Map<string, VersionPool>();
  /** Newest version seen per function: instances of older ones stop once idle. */
  readonly #latest = new Map<string, number>();
  /** The last spec a session pool was acquired with, for spares started later (it holds the resolved env). */
  readonly #specs = new WeakMap<VersionPool, AcquireSpec>();
  readonly #reaper: NodeJS.Timeout;
  readonly sampler: LoadSampler;
  #closed = false;

  constructor(deps: { driver: SandboxDriver; stems: StemPool; code: CodeSource; objects?: ObjectReader; log: Logger; options: PoolOptions }) {
    this.#stems = deps.stems;
    this.#log = deps.log;
    this.#options = deps.options;
    this.#shares = new OwnerShares(deps.options);
    this.#loader = new InstanceLoader({ ...deps, load: deps.options.load, cpu: deps.options.cpu, hostApi: deps.options.hostApi, onExit: (instance) => this.#remove(instance) });
    this.#reaper = setInterval(() => this.reap(), Math.min(500, this.#options.idleTtlMs)).unref();
    this.sampler = new LoadSampler(this.#options.load, () => this.instances(), deps.log);
    this.sampler.start();
  }

  get options(): PoolOptions {
    return this.#options;
  }

  acquire(spec: AcquireSpec, opts: { deadline: number; kind: LeaseKind; log?: Logger }): Promise<Acquired> {
    if (this.#closed) return Promise.resolve(rejection('stopping', 'The platform is stopping'));
    const key = poolKey(spec.target, spec.envDigest, opts.kind);
    let pool = this.#pools.get(key);
    if (pool === undefined) this.#pools.set(key, (pool = newVersionPool(key, opts.kind, spec.target)));
    pool.target = spec.target;
    this.#noteVersion(spec.target);
    const log = opts.log ?? this.#log;
    return opts.kind === 'stream' ? this.#acquireExclusive(pool, spec, log) : this.#acquireShared(pool, spec, opts.deadline, log);
  }

  async #acquireShared(pool: VersionPool, spec: AcquireSpec, deadline: number, log: Logger): Promise<Acquired> {
    const { target } = spec;
    for (;;) {
      const { pick, saturated } = place(pool.instances, target.limits.concurrency);
      if (pick !== undefined) {
        // Every instance is saturated: serve on the least loaded one now and start another in the
        // background, so load spreads over processes (cores) without this invocation waiting for a cold start.
        if (saturated && pool.starting === 0 && this.#hasRoom(pool) && this.#shares.hasFreeRoom(this.#pools.values(), target.ownerId)) this.#scaleOut(pool, spec);
        return this.#lease(pool, pick, false);
      }
      if (this.#hasRoom(pool) && this.#makeRoom(pool) === undefined) {
        const started = await this.#startInPool(pool, spec, deadline, log);
        return 'failure' in started ? started : this.#lease(pool, started.instance, true);
      }
      const refused = this.#shares.refuseWait(this.#pools.values(), pool);
      if (refused !== undefined) return refused;
      if (!(await pool.waiters.wait(deadline))) return { failure: failure('queue_timeout', 'No instance became free before the deadline') };
      if (this.#closed) return rejection('stopping', 'The platform is stopping');
    }
  }

  async #acquireExclusive(pool: VersionPool, spec: AcquireSpec, log: Logger): Promise<Acquired> {
    // The most recently used idle instance: its caches are the warmest, and the others age towards reaping.
    const idle = idleInstances(pool).sort((a, b) => b.lastUsedAt - a.lastUsedAt)[0];
    if (idle !== undefined) {
      const lease = this.#lease(pool, idle, false);
      this.#topUp(pool, spec);
      return lease;
    }
    const { target } = spec;
    if (sizeOf(pool) >= target.limits.maxInstances) return rejection('no_capacity', `All ${target.limits.maxInstances} instances of ${target.functionName} are serving streams (maxInstances); retry shortly`);
    const full = this.#makeRoom(pool);
    if (full !== undefined) return rejection('no_capacity', full);
    const started = await this.#startInPool(pool, spec, Date.now() + Math.max(target.limits.timeoutMs, SESSION_START_TIMEOUT_MS), log);
    if ('failure' in started) return started;
    const lease = this.#lease(pool, started.instance, true);
    this.#topUp(pool, spec);
    return lease;
  }

  #lease(pool: VersionPool, instance: ManagedInstance, coldStart: boolean): Lease {
    instance.inFlight++;
    instance.leasedAt = Date.now();
    let released = false;
    return {
      instance,
      coldStart,
      release: () => {
        if (released) return;
        released = true;
        this.#release(pool, instance);
      },
    };
  }

  #release(pool: VersionPool, instance: ManagedInstance): void {
    instance.inFlight--;
    instance.lastUsedAt = Date.now();
    if (instance.inFlight === 0 && instance.version < (this.#latest.get(instance.functionId) ?? 0)) this.#stop(instance, 'superseded by a newer version');
    else if (!instance.alive) this.#remove(instance);
    else if (instance.idle) this.#shares.nextWaiter(this.#pools.values(), pool)?.waiters.wakeOne();
    else pool.waiters.wakeOne();
    if (pool.kind === 'stream' && this.#pools.get(pool.key) === pool) this.#topUp(pool, undefined);
  }

  #hasRoom(pool: VersionPool): boolean {
    return sizeOf(pool) < pool.target.limits.maxInstances;
  }

  /** Makes room on the node for one more instance of the pool's owner (stopping an idle one if it must); else says why there is none. */
  #makeRoom(pool: VersionPool): string | undefined {
    const room = this.#shares.room(this.#pools.values(), pool.target.ownerId);
    if ('full' in room) return room.full;
    // Not woken for: the room it leaves is this start's.
    if (room.evict !== null) this.#stop(room.evict, 'evicted for capacity', false);
    return undefined;
  }

  /** Room freed on the node: the fairest waiter may use it. */
  #wakeForRoom(): void {
    this.#shares.nextWaiter(this.#pools.values())?.waiters.wakeOne();
  }

  /** Starts one instance for the pool, counted in `starting` meanwhile; added to the pool when it is up. */
  async #startInPool(pool: VersionPool, spec: AcquireSpec, deadline: number, log: Logger): Promise<Started> {
    pool.starting++;
    let started: Started;
    try {
      started = await this.#loader.start(spec, pool.key, pool.kind, deadline, log);
    } finally {
      pool.starting--;
    }
    if ('failure' in started) {
      this.#wakeForRoom();
      return started;
    }
    if (this.#closed || this.#pools.get(pool.key) !== pool) {
      void started.instance.sandbox.kill('pool closed');
      return { failure: failure('sandbox_unavailable', 'The platform is stopping', { coldStart: true }) };
    }
    pool.instances.push(started.instance);
    return started;
  }

  #scaleOut(pool: VersionPool, spec: AcquireSpec): void {
    void this.#startInPool(pool, spec, Date.now() + Math.max(spec.target.limits.timeoutMs, 10_000), this.#log).then(
      (started) => 'instance' in started && pool.waiters.wakeOne(),
      (err: unknown) => this.#log.warn({ err }, 'scaling out failed'),
    );
  }

  /** Starts spare session instances in the background until `minFree` are idle or starting. */
  #topUp(pool: VersionPool, spec: AcquireSpec | undefined): void {
    const last = spec ?? this.#specs.get(pool);
    if (spec !== undefined) this.#specs.set(pool, spec);
    if (last === undefined) return;
    const { minFree } = pool.target.stream;
    while (!this.#closed && idleInstances(pool).length + pool.starting < minFree && this.#hasRoom(pool) && this.#shares.hasFreeRoom(this.#pools.values(), pool.target.ownerId)) {
      void this.#startInPool(pool, last, Date.now() + Math.max(pool.target.limits.timeoutMs, SESSION_START_TIMEOUT_MS), this.#log).then(
        (started) => {
          if ('failure' in started) this.#log.warn({ functionId: pool.target.functionId, error: started.failure.error }, 'starting a spare stream instance failed');
        },
        (err: unknown) => this.#log.warn({ err }, 'starting a spare stream instance failed'),
      );
    }
  }

  #noteVersion(target: InvocationTarget): void {
    const latest = this.#latest.get(target.functionId) ?? 0;
    if (target.version <= latest) return;
    this.#latest.set(target.functionId, target.version);
    if (latest === 0) return;
    for (const pool of this.#pools.values()) {
      if (pool.target.functionId !== target.functionId) continue;
      for (const i of idleInstances(pool)) if (i.version < target.version) this.#stop(i, 'superseded by a newer version');
    }
  }

  /** A deleted function: its idle instances stop now, busy ones when their lease ends; open sessions are cut. */
  retireFunction(functionId: string): void {
    this.#latest.set(functionId, Number.POSITIVE_INFINITY);
    for (const pool of this.#pools.values()) {
      if (pool.target.functionId !== functionId) continue;
      for (const i of [...pool.instances]) if (i.inFlight === 0 || pool.kind === 'stream') this.#stop(i, 'function deleted');
    }
  }

  #stop(instance: ManagedInstance, reason: string, wake = true): void {
    this.#remove(instance, wake);
    void instance.sandbox.kill(reason);
  }

  #remove(instance: ManagedInstance, wake = true): void {
    const pool = this.#pools.get(instance.key);
    if (pool === undefined) return;
    const at = pool.instances.indexOf(instance);
    if (at < 0) return;
    pool.instances.splice(at, 1);
    if (sizeOf(pool) === 0 && pool.waiters.length === 0) this.#pools.delete(pool.key);
    if (wake) this.#wakeForRoom();
  }

  /** Stops idle instances past their pool's idle policy (on a timer; public for tests). */
  reap(now = Date.now()): void {
    for (const pool of [...this.#pools.values()]) {
      for (const i of reapable(pool, policyOf(pool, this.#options.idleTtlMs), now)) this.#stop(i, 'idle');
    }
  }

  /** Every instance the pool runs, specialised ones first. */
  instances(): { managed: ManagedInstance[]; stems: ReturnType<StemPool['instances']> } {
    return { managed: [...this.#pools.values()].flatMap((p) => p.instances), stems: this.#stems.instances() };
  }

  /** The pools of a function's stream sessions (GET /functions/{id}/streams). */
  sessionPools(functionId: string): VersionPool[] {
    return [...this.#pools.values()].filter((p) => p.kind === 'stream' && p.target.functionId === functionId);
  }

  /** Invocations waiting for capacity, per function version pool. */
  waiting(): Array<{ functionId: string; functionName: string; waiters: number }> {
    return [...this.#pools.values()].filter((p) => p.kind === 'invoke').map((p) => ({ functionId: p.target.functionId, functionName: p.target.functionName, waiters: p.waiters.length }));
  }

  /** Leases held now, of both kinds (what a graceful stop waits for). */
  leased(): number {
    let n = 0;
    for (const pool of this.#pools.values()) for (const i of pool.instances) n += i.inFlight;
    return n;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reaper);
    this.sampler.stop();
    const all = [...this.#pools.values()].flatMap((p) => p.instances);
    for (const pool of this.#pools.values()) pool.waiters.wakeAll();
    this.#pools.clear();
    await Promise.allSettled([...all.map((i) => i.sandbox.kill('platform stopping')), this.#stems.close()]);
  }
}
