import type { Logger } from 'pino';
import type { HeartbeatStore, WorkerHeartbeat, WorkerState } from '../core/ports/workers.ts';
import type { InstancePool } from '../worker/instance-pool.ts';
import { heartbeatOf, type WorkerIdentity } from './heartbeat.ts';

/**
 * The worker's side of the registry: every heartbeatIntervalMs it puts a heartbeat built from the local
 * pool. `drain()` announces `draining` at once; `stop()` removes its entry (its own leaving is not a loss).
 */
export class HeartbeatPublisher {
  readonly #store: HeartbeatStore;
  readonly #build: (state: WorkerState) => WorkerHeartbeat;
  readonly #intervalMs: number;
  readonly #log: Pick<Logger, 'warn' | 'info'>;
  readonly #id: string;
  #state: WorkerState = 'ready';
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #failing = false;
  #publishing: Promise<void> = Promise.resolve();

  constructor(deps: { store: HeartbeatStore; pool: InstancePool; identity: WorkerIdentity; log: Pick<Logger, 'warn' | 'info'> }) {
    const identity = { ...deps.identity, startedAt: deps.identity.startedAt ?? Date.now() };
    this.#store = deps.store;
    this.#build = (state) => heartbeatOf(deps.pool, identity, state);
    this.#intervalMs = identity.settings.heartbeatIntervalMs;
    this.#id = identity.settings.id;
    this.#log = deps.log;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** The heartbeat as it would be sent now. */
  heartbeat(): WorkerHeartbeat {
    return this.#build(this.#state);
  }

  /** Publishes at once, then every interval. */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => void this.publish(), this.#intervalMs).unref();
    await this.publish();
  }

  /** One heartbeat now (one at a time: a slow store is not put to twice at once). A failure is logged once per spell. */
  publish(): Promise<void> {
    this.#publishing = this.#publishing.then(async () => {
      if (this.#stopped) return;
      try {
        await this.#store.put(this.heartbeat());
        if (this.#failing) this.#log.info('heartbeats are published again');
        this.#failing = false;
      } catch (err) {
        if (!this.#failing) this.#log.warn({ err }, 'publishing the heartbeat failed; the next interval tries again');
        this.#failing = true;
      }
    });
    return this.#publishing;
  }

  /** Out of placement from now on: says so at once. */
  async drain(): Promise<void> {
    this.#state = 'draining';
    await this.publish();
  }

  /** No more heartbeats; the entry is removed so the worker is gone, not lost. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#publishing;
    this.#stopped = true;
    try {
      await this.#store.remove(this.#id);
    } catch (err) {
      this.#log.warn({ err }, 'removing the heartbeat failed; the worker shows as lost until it expires');
    }
  }
}
