import type { InvocationTarget } from '../core/invocation.ts';
import type { LeaseKind, ManagedInstance } from './managed-instance.ts';
import { WaitQueue } from './waiters.ts';

/** The instances of one function version (and one set of secret values) leased for one kind of work. */
export interface VersionPool {
  readonly key: string;
  readonly kind: LeaseKind;
  /** The newest target seen for the key: its stream policy and limits apply. */
  target: InvocationTarget;
  readonly instances: ManagedInstance[];
  starting: number;
  /** Invocations waiting for a free instance (shared pools only; sessions are refused instead). */
  readonly waiters: WaitQueue;
}

/** What a pool keeps and for how long: idle instances past `idleTtlMs` stop, except `minFree` while it is in use. */
export interface IdlePolicy {
  idleTtlMs: number;
  minFree: number;
}

export function poolKey(target: InvocationTarget, envDigest: string, kind: LeaseKind): string {
  return `${target.functionId}@${target.version}#${envDigest}${kind === 'stream' ? ':stream' : ''}`;
}

export function newVersionPool(key: string, kind: LeaseKind, target: InvocationTarget): VersionPool {
  return { key, kind, target, instances: [], starting: 0, waiters: new WaitQueue() };
}

export function policyOf(pool: VersionPool, invokeIdleTtlMs: number): IdlePolicy {
  return pool.kind === 'stream' ? { idleTtlMs: pool.target.stream.idleTimeoutMs, minFree: pool.target.stream.minFree } : { idleTtlMs: invokeIdleTtlMs, minFree: 0 };
}

export function idleInstances(pool: VersionPool): ManagedInstance[] {
  return pool.instances.filter((i) => i.idle);
}

/** Instances running or being started: what counts against the version's maxInstances. */
export function sizeOf(pool: VersionPool): number {
  return pool.instances.length + pool.starting;
}

/**
 * The idle instances to stop now, oldest first: past the policy's TTL, beyond `minFree` spares while
 * any instance of the pool is leased, all of them once none is (an unused function scales to zero).
 */
export function reapable(pool: VersionPool, policy: IdlePolicy, now: number): ManagedInstance[] {
  const idle = idleInstances(pool).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  const inUse = pool.instances.some((i) => i.inFlight > 0);
  const cutoff = now - policy.idleTtlMs;
  const victims: ManagedInstance[] = [];
  for (const instance of idle) {
    if (instance.lastUsedAt >= cutoff) break;
    if (inUse && idle.length - victims.length <= policy.minFree) break;
    victims.push(instance);
  }
  return victims;
}
