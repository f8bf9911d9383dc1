import type { AutoscalerSettings } from '../config/options.ts';

/**
 * Why the autoscaler wants the count it wants (docs/deploy.md, The autoscaler). The value of the
 * `decision` label of `skyscale_autoscaler_decisions_total`.
 * - `scale_up`, `scale_down`: a change, in the band's direction.
 * - `clamp_min`, `clamp_max`: the count is outside MIN_WORKERS..MAX_WORKERS and is brought back to the
 *   bound (a change, made even within the cooldown), or the demand pushes past a bound the count is
 *   already at (no change).
 * - `hold_cooldown`: a change is wanted but the last one was less than COOLDOWN_PERIOD ago.
 * - `hold_in_band`: the demand per worker is between the two thresholds.
 */
export type ScaleReason = 'scale_up' | 'scale_down' | 'hold_cooldown' | 'hold_in_band' | 'clamp_min' | 'clamp_max';

export const SCALE_REASONS: readonly ScaleReason[] = Object.freeze(['scale_up', 'scale_down', 'hold_cooldown', 'hold_in_band', 'clamp_min', 'clamp_max']);

export type DecideSettings = Pick<AutoscalerSettings, 'minWorkers' | 'maxWorkers' | 'scaleUpThreshold' | 'scaleDownThreshold' | 'cooldownMs'>;

export interface DecideInput {
  /** The ready workers now (the worker registry's live entries). */
  readonly current: number;
  /** Executions waiting or running: the consumer's pending + ack-pending, plus the sync queue. */
  readonly demand: number;
  /** When the count was last changed (ms since the epoch), or null if never by this autoscaler. */
  readonly lastChangeAt: number | null;
  readonly now: number;
}

export interface Decision {
  /** The count wanted; equal to `current` for the holds and a clamp at a bound already reached. */
  readonly wanted: number;
  readonly reason: ScaleReason;
  /** demand / current (Infinity with no worker and some demand, 0 with neither). */
  readonly perWorker: number;
}

/**
 * The worker count wanted for a demand. Pure: the same input gives the same decision.
 *
 * 1. A count outside MIN_WORKERS..MAX_WORKERS goes to the nearest bound at once (`clamp_min`,
 *    `clamp_max`), whatever the cooldown: the bounds are an invariant, e.g. the first tick after start.
 * 2. demand / current ≥ SCALE_UP_THRESHOLD: up, in one jump (KEDA-style) to the count that brings the
 *    demand per worker to the threshold, ceil(demand / SCALE_UP_THRESHOLD), and at least one more than
 *    now; capped at MAX_WORKERS. At MAX_WORKERS already: `clamp_max`, no change.
 * 3. demand / current ≤ SCALE_DOWN_THRESHOLD: down by one (drains are slow and a burst may come back).
 *    At MIN_WORKERS already: `clamp_min`, no change.
 * 4. Otherwise `hold_in_band`.
 * A change of 2 or 3 less than COOLDOWN_PERIOD after the last change is `hold_cooldown` instead.
 */
export function decide(settings: DecideSettings, input: DecideInput): Decision {
  const { minWorkers, maxWorkers, scaleUpThreshold, scaleDownThreshold, cooldownMs } = settings;
  const current = Math.max(0, Math.floor(input.current));
  const demand = Math.max(0, input.demand);
  const perWorker = current > 0 ? demand / current : demand > 0 ? Infinity : 0;

  if (current < minWorkers) return { wanted: minWorkers, reason: 'clamp_min', perWorker };
  if (current > maxWorkers) return { wanted: maxWorkers, reason: 'clamp_max', perWorker };

  let wanted: number;
  if (perWorker >= scaleUpThreshold) {
    if (current === maxWorkers) return { wanted: current, reason: 'clamp_max', perWorker };
    wanted = Math.min(maxWorkers, Math.max(current + 1, Math.ceil(demand / scaleUpThreshold)));
  } else if (perWorker <= scaleDownThreshold) {
    if (current === minWorkers) return { wanted: current, reason: 'clamp_min', perWorker };
    wanted = current - 1;
  } else {
    return { wanted: current, reason: 'hold_in_band', perWorker };
  }

  const coolingDown = input.lastChangeAt !== null && input.now - input.lastChangeAt < cooldownMs;
  if (coolingDown) return { wanted: current, reason: 'hold_cooldown', perWorker };
  return { wanted, reason: wanted > current ? 'scale_up' : 'scale_down', perWorker };
}
