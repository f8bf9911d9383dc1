import type { Logger } from 'pino';
import type { AutoscalerSettings } from '../config/options.ts';
import { NO_AUTOSCALER_METRICS, type AutoscalerMetrics } from '../core/metrics.ts';
import type { Actuator } from './actuators/actuator.ts';
import { decide, type Decision } from './decide.ts';

/** The work queue's depth: the exec consumer's num_pending + num_ack_pending (KEDA's lag), plus the sync queue. */
export interface QueueDemand {
  readonly pending: number;
  readonly ackPending: number;
  readonly syncQueued: number;
}

export interface DemandSource {
  demand(): Promise<QueueDemand>;
}

/** The ready workers now, e.g. the worker registry's live entries. */
export type WorkerCount = () => Promise<number>;

export interface AutoscalerOptions {
  readonly settings: Omit<AutoscalerSettings, 'actuator'>;
  readonly demand: DemandSource;
  readonly workers: WorkerCount;
  readonly actuator: Actuator;
  readonly log: Logger;
  readonly metrics?: AutoscalerMetrics;
  /** The clock decide() sees (ms since the epoch). */
  readonly now?: () => number;
}

/** One tick that read its inputs: what it read, what it decided, and whether the actuator was asked. */
export interface Tick {
  readonly ready: number;
  readonly demand: QueueDemand;
  readonly decision: Decision;
  /** scaleTo() was called and resolved. */
  readonly applied: boolean;
}

export interface RunningAutoscaler {
  /** The last tick that read its inputs, or null before the first. */
  readonly last: Tick | null;
  /** Runs a tick now, after any tick under way; null when the inputs could not be read. */
  tick(): Promise<Tick | null>;
  /** No more ticks; resolves once a tick under way has finished. The actuator is the caller's to stop. */
  stop(): Promise<void>;
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${what} is ${String(value)}, not a count`);
  return value;
}

/**
 * The queue-depth autoscaler: a first tick at once (bringing the count within MIN_WORKERS..MAX_WORKERS),
 * then one every CHECK_INTERVAL after the previous one ended. Each tick reads the demand and the ready
 * workers, calls decide() and, when the count wanted differs from the ready workers and from what the
 * actuator already has, asks the actuator for it. A failed read or actuator is logged and counted, and the
 * next tick tries again; nothing here throws. The composition root runs one per deployment (control role).
 */
/** How long a tick waits for the queue depth and the worker count. */
const READ_TIMEOUT_MS = 10_000;

export function startAutoscaler(options: AutoscalerOptions): RunningAutoscaler {
  const { settings, actuator } = options;
  const log = options.log.child({ component: 'autoscaler', actuator: actuator.kind });
  const metrics = options.metrics ?? NO_AUTOSCALER_METRICS;
  const now = options.now ?? Date.now;
  let lastChangeAt: number | null = null;
  let last: Tick | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  async function read(): Promise<{ ready: number; demand: QueueDemand } | null> {
    try {
      // A read that never settles must not stop the loop: it counts as a failed read.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS)));
      const [demand, ready] = await Promise.race([Promise.all([options.demand.demand(), options.workers()]), late]).finally(() => clearTimeout(timer));
      return {
        ready: count(ready, 'the ready worker count'),
        demand: { pending: count(demand.pending, 'pending'), ackPending: count(demand.ackPending, 'ackPending'), syncQueued: count(demand.syncQueued, 'syncQueued') },
      };
    } catch (err) {
      metrics.failure('read');
      log.warn({ err }, 'autoscaler: could not read the queue depth or the ready workers; trying again next tick');
      return null;
    }
  }

  async function runTick(): Promise<Tick | null> {
    const input = await read();
    if (input === null) return null;
    const { ready } = input;
    const demand = input.demand.pending + input.demand.ackPending + input.demand.syncQueued;
    const decision = decide(settings, { current: ready, demand, lastChangeAt, now: now() });
    metrics.decision({ decision: decision.reason, desired: decision.wanted, ready, demand });
    const fields = { decision: decision.reason, ready, desired: decision.wanted, demand, ...input.demand, perWorker: decision.perWorker };
    let applied = false;
    if (decision.wanted === ready) {
      log.debug(fields, `autoscaler: ${decision.reason}, ${ready} workers`);
    } else {
      try {
        const has = await actuator.current();
        if (has === decision.wanted) {
          log.debug({ ...fields, actuatorHas: has }, `autoscaler: ${decision.reason}, already asked for ${has} workers; waiting for them to be ready`);
        } else {
          await actuator.scaleTo(decision.wanted, decision.reason);
          applied = true;
          lastChangeAt = now();
          log.info({ ...fields, actuatorHad: has }, `autoscaler: ${decision.reason} from ${ready} to ${decision.wanted} workers`);
        }
      } catch (err) {
        metrics.failure('actuate');
        log.error({ ...fields, err }, `autoscaler: the ${actuator.kind} actuator could not scale to ${decision.wanted} workers; trying again next tick`);
      }
    }
    last = { ready, demand: input.demand, decision, applied };
    return last;
  }

  function tick(): Promise<Tick | null> {
    const run = chain.then(runTick, runTick);
    chain = run.catch(() => {});
    return run;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void tick().finally(schedule);
    }, settings.checkIntervalMs);
    timer.unref();
  }

  log.info({ ...settings }, 'autoscaler: started');
  void tick().finally(schedule);

  return {
    get last() {
      return last;
    },
    tick,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await chain;
    },
  };
}
