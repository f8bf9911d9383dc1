import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';
import type { InvocationResult, InvocationTarget } from '../core/invoker.ts';
import type { StreamPolicy } from '../core/types.ts';
import type { ManagedInstance } from '../scheduler/managed-instance.ts';
import type { Started } from '../scheduler/scheduler.ts';

/** Where stream instances come from (the scheduler: stem cells, cold starts, the global instance cap). */
export interface InstanceSource {
  startDedicated(target: InvocationTarget, deadline: number): Promise<Started>;
  hasRoom(): boolean;
}

/** An instance reserved for one connection; `release()` hands it back (or stops it) once the session ended. */
export interface StreamLease {
  instance: ManagedInstance;
  coldStart: boolean;
  release(): void;
}

interface Pool {
  key: string;
  target: InvocationTarget;
  policy: StreamPolicy;
  /** Ready instances, least recently used first. */
  idle: ManagedInstance[];
  busy: Map<ManagedInstance, number>;
  starting: number;
}

export interface StreamPoolStatus {
  version: number;
  policy: StreamPolicy;
  starting: number;
  instances: Array<{ id: string; state: 'busy' | 'idle'; since: string; sessions: number }>;
}

const START_TIMEOUT_MS = 30_000;

/**
 * Stream instances per function version, each serving one connection at a time (docs/streams.md).
 * While a version is being streamed to it keeps at least `minFree` idle instances (starting more in
 * the background when a connection takes one); an instance idle longer than `idleTimeoutMs` is stopped
 * when there are more than `minFree` idle or no session is open, so an unused function scales to zero.
 */
export class StreamPools {
  readonly #source: InstanceSource;
  readonly #log: Logger;
  readonly #pools = new Map<string, Pool>();
  /** Newest version seen per function: instances of older ones are stopped instead of reused. */
  readonly #latest = new Map<string, number>();
  readonly #reaper: NodeJS.Timeout;
  #closed = false;

  constructor(deps: { source: InstanceSource; log: Logger; reapIntervalMs?: number }) {
    this.#source = deps.source;
    this.#log = deps.log;
    this.#reaper = setInterval(() => this.reap(), deps.reapIntervalMs ?? 500).unref();
  }

  /** An idle instance of this version, else a new one; refused (429) when the function or platform is at its cap. */
  async acquire(target: InvocationTarget, policy: StreamPolicy): Promise<StreamLease | { failure: InvocationResult }> {
    if (this.#closed) throw new AppError('SERVICE_UNAVAILABLE', 'The platform is stopping');
    const pool = this.#pool(target, policy);
    let instance = this.#takeIdle(pool);
    let coldStart = false;
    if (instance === undefined) {
      if (this.#count(pool) >= target.maxInstances) {
        throw new AppError('RATE_LIMITED', `All ${target.maxInstances} instances of ${target.functionName} are serving streams (maxInstances); retry shortly`, { headers: { 'retry-after': '1' } });
      }
      if (!this.#source.hasRoom()) throw new AppError('RATE_LIMITED', 'The platform runs as many instances as it may (MAX_INSTANCES); retry shortly', { headers: { 'retry-after': '1' } });
      const started = await this.#start(pool);
      if ('failure' in started) return started;
      instance = started.instance;
      coldStart = true;
    }
    pool.busy.set(instance, Date.now());
    instance.inFlight = 1;
    instance.invocations++;
    this.#topUp(pool);
    let released = false;
    const taken = instance;
    return {
      instance,
      coldStart,
      release: () => {
        if (released) return;
        released = true;
        this.#release(pool, taken);
      },
    };
  }

  /** A deleted function: its idle instances stop now, and open sessions are cut. */
  retireFunction(functionId: string): void {
    this.#latest.set(functionId, Number.POSITIVE_INFINITY);
    for (const pool of this.#pools.values()) {
      if (pool.target.functionId !== functionId) continue;
      for (const i of [...pool.idle, ...pool.busy.keys()]) void i.sandbox.kill('function deleted');
      pool.idle = [];
    }
  }

  status(functionId: string): StreamPoolStatus[] {
    const iso = (ms: number) => new Date(ms).toISOString();
    return [...this.#pools.values()]
      .filter((p) => p.target.functionId === functionId)
      .map((p) => ({
        version: p.target.version,
        policy: p.policy,
        starting: p.starting,
        instances: [
          ...[...p.busy].map(([i, since]) => ({ id: i.id, state: 'busy' as const, since: iso(since), sessions: i.invocations })),
          ...p.idle.map((i) => ({ id: i.id, state: 'idle' as const, since: iso(i.lastUsedAt), sessions: i.invocations })),
        ],
      }));
  }

  instances(): ManagedInstance[] {
    return [...this.#pools.values()].flatMap((p) => [...p.busy.keys(), ...p.idle]);
  }

  /** Stops idle instances past their pool's idleTimeout (called on a timer; public for tests). */
  reap(now = Date.now()): void {
    for (const pool of [...this.#pools.values()]) {
      pool.idle = pool.idle.filter((i) => i.sandbox.state === 'ready');
      const cutoff = now - pool.policy.idleTimeoutMs;
      while (pool.idle.length > 0 && pool.idle[0].lastUsedAt < cutoff && (pool.busy.size === 0 || pool.idle.length > pool.policy.minFree)) {
        void pool.idle.shift()!.sandbox.kill('idle');
      }
      this.#dropIfEmpty(pool);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reaper);
    const all = this.instances();
    this.#pools.clear();
    await Promise.allSettled(all.map((i) => i.sandbox.kill('platform stopping')));
  }

  #pool(target: InvocationTarget, policy: StreamPolicy): Pool {
    const latest = this.#latest.get(target.functionId) ?? 0;
    if (target.version > latest) {
      this.#latest.set(target.functionId, target.version);
      this.#retireOlder(target);
    }
    const key = `${target.functionId}@${target.version}#${target.envDigest}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = { key, target, policy, idle: [], busy: new Map(), starting: 0 };
      this.#pools.set(key, pool);
    }
    pool.policy = policy;
    return pool;
  }

  #retireOlder(target: InvocationTarget): void {
    for (const pool of this.#pools.values()) {
      if (pool.target.functionId !== target.functionId || pool.target.version >= target.version) continue;
      for (const i of pool.idle) void i.sandbox.kill('superseded by a newer version');
      pool.idle = [];
      this.#dropIfEmpty(pool);
    }
  }

  #takeIdle(pool: Pool): ManagedInstance | undefined {
    // The most recently used one: its caches are the warmest, and the others age towards reaping.
    let instance: ManagedInstance | undefined;
    while ((instance = pool.idle.pop()) !== undefined && instance.sandbox.state !== 'ready') void instance.sandbox.kill('stale stream instance');
    return instance;
  }

  #count(pool: Pool): number {
    return pool.idle.length + pool.busy.size + pool.starting;
  }

  async #start(pool: Pool): Promise<Started> {
    pool.starting++;
    try {
      const started = await this.#source.startDedicated(pool.target, Date.now() + Math.max(pool.target.timeoutMs, START_TIMEOUT_MS));
      if ('instance' in started) {
        const { instance } = started;
        void instance.sandbox.exited.then(() => {
          const at = pool.idle.indexOf(instance);
          if (at >= 0) pool.idle.splice(at, 1);
        });
        if (this.#closed) void instance.sandbox.kill('platform stopping');
      }
      return started;
    } finally {
      pool.starting--;
    }
  }

  /** Starts instances in the background until `minFree` are idle or starting. */
  #topUp(pool: Pool): void {
    while (pool.idle.length + pool.starting < pool.policy.minFree && this.#count(pool) < pool.target.maxInstances && this.#source.hasRoom() && !this.#closed) {
      void this.#start(pool).then((started) => {
        if ('failure' in started) return this.#log.warn({ functionId: pool.target.functionId, error: started.failure.error }, 'starting a spare stream instance failed');
        if (!this.#usable(pool, started.instance)) return void started.instance.sandbox.kill('no longer needed');
        pool.idle.push(started.instance);
        if (!this.#pools.has(pool.key)) this.#pools.set(pool.key, pool);
      }, (err: unknown) => this.#log.warn({ err }, 'starting a spare stream instance failed'));
    }
  }

  #release(pool: Pool, instance: ManagedInstance): void {
    pool.busy.delete(instance);
    instance.inFlight = 0;
    instance.lastUsedAt = Date.now();
    if (this.#usable(pool, instance)) pool.idle.push(instance);
    else void instance.sandbox.kill('stream session ended');
    this.#topUp(pool);
    this.#dropIfEmpty(pool);
  }

  #usable(pool: Pool, instance: ManagedInstance): boolean {
    return !this.#closed && instance.sandbox.state === 'ready' && pool.target.version >= (this.#latest.get(pool.target.functionId) ?? 0);
  }

  #dropIfEmpty(pool: Pool): void {
    if (this.#count(pool) === 0) this.#pools.delete(pool.key);
  }
}
