import type { ManagedInstance } from './managed-instance.ts';

export type PlacementCandidate = Pick<ManagedInstance, 'inFlight' | 'canTake'> & { load: { score: number; saturated: boolean } };

export interface Placement<T> {
  /** The instance to run on now, or undefined when none has a free slot. */
  pick: T | undefined;
  /** Every instance is saturated (score at or over the threshold, or no free slot): start another. */
  saturated: boolean;
}

/**
 * Chooses among one function version's instances (same version and env digest: the pool's key).
 * Eligible: ready (or busy below its concurrency) with a free slot. Among those, the lowest
 * `score + inFlight / concurrency` wins: the score is up to one sampling interval old, the in-flight
 * share is live, so a burst between two samples spreads instead of piling onto the instance that
 * looked idlest at the last sample. With concurrency 1 every eligible instance is idle and the score
 * alone decides. Ties go to the earlier (older) instance.
 */
export function place<T extends PlacementCandidate>(instances: readonly T[], concurrency: number): Placement<T> {
  let pick: T | undefined;
  let best = Number.POSITIVE_INFINITY;
  let saturated = true;
  for (const instance of instances) {
    if (!instance.canTake(concurrency)) continue;
    if (!instance.load.saturated) saturated = false;
    const key = instance.load.score + instance.inFlight / concurrency;
    if (key < best) {
      best = key;
      pick = instance;
    }
  }
  return { pick, saturated };
}
