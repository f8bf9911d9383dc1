import { ownerCap, type PoolOptions } from '../config/options.ts';
import { rejection, type Rejection } from '../core/invocation.ts';
import type { ManagedInstance } from './managed-instance.ts';
import { sizeOf, type VersionPool } from './version-pool.ts';

/** What each owner holds on the node now: instances (running or starting) and invocations waiting. */
class Holdings {
  readonly #instances = new Map<string, number>();
  readonly #waiting = new Map<string, number>();
  totalInstances = 0;
  totalWaiting = 0;

  constructor(pools: Iterable<VersionPool>) {
    for (const pool of pools) {
      const owner = pool.target.ownerId;
      const size = sizeOf(pool);
      this.#instances.set(owner, (this.#instances.get(owner) ?? 0) + size);
      this.#waiting.set(owner, (this.#waiting.get(owner) ?? 0) + pool.waiters.length);
      this.totalInstances += size;
      this.totalWaiting += pool.waiters.length;
    }
  }

  instances(owner: string): number {
    return this.#instances.get(owner) ?? 0;
  }

  waiting(owner: string): number {
    return this.#waiting.get(owner) ?? 0;
  }
}

/** Room for a new instance: free, free once `evict` is stopped, or none (`full` says why). */
export type Room = { evict: ManagedInstance | null } | { full: string };

/**
 * Per-owner shares of one node (docs/executions.md#fairness): an owner holds at most `instanceCap`
 * instances and `queueCap` waiting invocations; which idle instance is stopped to make room for whom;
 * which waiting invocation gets capacity that frees. The pools are the state: nothing is counted twice.
 */
export class OwnerShares {
  readonly instanceCap: number;
  readonly queueCap: number;
  readonly #options: PoolOptions;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.instanceCap = ownerCap(options.maxTotalInstances, options.ownerShare);
    this.queueCap = ownerCap(options.maxQueued, options.ownerShare);
  }

  /** Room for one more instance of `owner`, taking an idle instance only from an owner it may take one from. */
  room(pools: Iterable<VersionPool>, owner: string): Room {
    const all = [...pools];
    const held = new Holdings(all);
    const mine = held.instances(owner);
    if (mine < this.instanceCap && held.totalInstances < this.#options.maxTotalInstances) return { evict: null };
    let victim: ManagedInstance | undefined;
    let victimHeld = 0;
    for (const pool of all) {
      if (!this.#mayTake(held, owner, pool)) continue;
      const theirs = held.instances(pool.target.ownerId);
      for (const i of pool.instances) {
        if (!i.idle) continue;
        // The greediest owner's instance first, then the least recently used.
        if (victim === undefined || theirs > victimHeld || (theirs === victimHeld && i.lastUsedAt < victim.lastUsedAt)) [victim, victimHeld] = [i, theirs];
      }
    }
    if (victim !== undefined) return { evict: victim };
    if (mine >= this.instanceCap) return { full: `You run ${mine} instances, as many as one owner may (MAX_OWNER_SHARE of MAX_INSTANCES); retry shortly` };
    return { full: 'The platform runs as many instances as it may (MAX_INSTANCES); retry shortly' };
  }

  /** Whether a start nobody waits for (scaling out, a spare) may happen: only in free room, never by evicting. */
  hasFreeRoom(pools: Iterable<VersionPool>, owner: string): boolean {
    const held = new Holdings(pools);
    return held.instances(owner) < this.instanceCap && held.totalInstances < this.#options.maxTotalInstances;
  }

  /** The refusal of an invocation that would wait, when its version's, its owner's or the node's queue is full. */
  refuseWait(pools: Iterable<VersionPool>, pool: VersionPool): Rejection | undefined {
    if (pool.waiters.length >= this.#options.maxQueuedPerFunction) return rejection('queue_full', `Too many invocations of ${pool.target.functionName} are waiting; retry shortly`);
    const held = new Holdings(pools);
    const mine = held.waiting(pool.target.ownerId);
    if (mine >= this.queueCap) return rejection('queue_full', `${mine} of your invocations are waiting for an instance, as many as one owner may (MAX_OWNER_SHARE of MAX_QUEUED); retry shortly`);
    if (held.totalWaiting >= this.#options.maxQueued) return rejection('queue_full', 'The platform has as many invocations waiting as it may (MAX_QUEUED); retry shortly');
    return undefined;
  }

  /**
   * The pool whose first waiter gets capacity that just freed: room (an instance stopped, a start that
   * failed) when `idle` is undefined, else an instance of `idle` that has nothing in flight any more.
   * The waiter of the owner holding the fewest instances goes first, the longest waiting among equals;
   * an idle instance stays with its version's waiters unless an owner with far fewer instances waits.
   */
  nextWaiter(pools: Iterable<VersionPool>, idle?: VersionPool): VersionPool | undefined {
    const all = [...pools];
    if (!all.some((p) => p.waiters.length > 0)) return undefined;
    const held = new Holdings(all);
    let best: VersionPool | undefined;
    for (const pool of all) {
      if (pool === idle || pool.waiters.length === 0 || sizeOf(pool) >= pool.target.limits.maxInstances) continue;
      const owner = pool.target.ownerId;
      if (idle === undefined ? held.instances(owner) >= this.instanceCap : !this.#mayTake(held, owner, idle)) continue;
      if (best === undefined || held.instances(owner) < held.instances(best.target.ownerId) || (held.instances(owner) === held.instances(best.target.ownerId) && pool.waiters.oldest! < best.waiters.oldest!)) best = pool;
    }
    return best ?? (idle !== undefined && idle.waiters.length > 0 ? idle : undefined);
  }

  /**
   * Whether `taker` may stop an idle instance of `pool` to start one of its own: its own instance unless
   * invocations wait for it; another owner's only below its cap and from an owner holding more, at least
   * two more when invocations of that version wait (so two busy owners never trade instances back and forth).
   */
  #mayTake(held: Holdings, taker: string, pool: VersionPool): boolean {
    const owner = pool.target.ownerId;
    const contested = pool.waiters.length > 0;
    if (owner === taker) return !contested;
    if (held.instances(taker) >= this.instanceCap) return false;
    return held.instances(owner) - held.instances(taker) >= (contested ? 2 : 1);
  }
}
