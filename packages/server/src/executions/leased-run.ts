import type { Logger } from 'pino';
import { nowIso } from '../core/ids.ts';
import { failure, isRejection, type InvocationResult, type Rejection } from '../core/invocation.ts';
import type { PlatformMetrics } from '../core/metrics.ts';
import type { ExecutionStore, StoredExecution } from '../core/ports/store.ts';
import type { ExecutionStatus, FunctionRecord } from '../core/types.ts';

export type RunFunction = (fn: FunctionRecord, event: unknown, context: { executionId: string; deadline: number }) => Promise<InvocationResult | Rejection>;

/** The function version an execution was queued for; undefined once the function is gone. */
export type LoadFunction = (execution: StoredExecution) => Promise<FunctionRecord | undefined>;

/** Statuses after which an async execution is tried again (until maxAttempts). */
const RETRYABLE: ReadonlySet<ExecutionStatus> = new Set(['failed', 'timed_out', 'oom_killed', 'system_error']);

export interface LeasedRunDeps {
  repo: ExecutionStore;
  run: RunFunction;
  loadFunction: LoadFunction;
  metrics: PlatformMetrics;
  options: { leaseMs: number; retryBaseMs: number; retryMaxMs: number };
}

/** How a leased run ended: written as terminal, put back in the queue until `availableAt`, or its lease was lost to another holder. */
export type LeasedRunEnd = { kind: 'finished' } | { kind: 'requeued'; availableAt: number } | { kind: 'lost' };

/**
 * Runs one execution this holder has leased (the store fences every write by `holder`), renewing the
 * lease while it runs, then records its end: finished, dead-lettered after its last attempt, or back in
 * the queue with a jittered exponential delay. A refusal for capacity does not count as an attempt.
 * Shared by the embedded AsyncWorker and distributed mode's queue consumer.
 */
export async function runLeased(execution: StoredExecution, holder: string, deps: LeasedRunDeps, log: Logger, onRenew?: () => void): Promise<LeasedRunEnd> {
  const { id, attempts, maxAttempts } = execution;
  const { repo, options } = deps;
  let outcome: InvocationResult;
  const startedAt = nowIso();
  const stopRenewing = renewWhileRunning(repo, id, holder, options.leaseMs, log, onRenew);
  try {
    const fn = await deps.loadFunction(execution);
    if (fn === undefined) {
      outcome = failure('function_deleted', 'The function was deleted before the execution ran');
    } else {
      const ran = await deps.run(fn, execution.input, { executionId: id, deadline: Date.now() + fn.timeoutMs });
      if (isRejection(ran)) return await postpone(repo, id, holder, ran, log);
      outcome = ran;
    }
  } catch (err) {
    log.error({ err }, 'async invocation failed inside the platform');
    outcome = failure('platform_error', 'The platform failed to run the execution');
  } finally {
    stopRenewing();
  }
  const retry = RETRYABLE.has(outcome.status) && attempts < maxAttempts;
  if (retry) {
    const delay = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** (attempts - 1));
    const availableAt = Date.now() + Math.round(delay * (0.75 + Math.random() * 0.5));
    if (!(await repo.requeue(id, holder, availableAt, { error: outcome.error, logs: outcome.logs }))) return lost(log);
    log.info({ status: outcome.status, retryInMs: availableAt - Date.now() }, 'async execution will be retried');
    return { kind: 'requeued', availableAt };
  }
  const exhausted = RETRYABLE.has(outcome.status) && maxAttempts > 1;
  const status: ExecutionStatus = exhausted ? 'dead_lettered' : outcome.status;
  const error = exhausted && outcome.error !== null ? { ...outcome.error, message: `${outcome.error.message} (dead-lettered after ${attempts} attempts; the last ended ${outcome.status})` } : outcome.error;
  if (!(await repo.finish(id, holder, { ...outcome, workerId: outcome.workerId ?? null, status, error, startedAt, finishedAt: nowIso() }))) return lost(log);
  if (exhausted) deps.metrics.deadLettered({ functionId: execution.functionId, functionName: execution.functionName });
  return { kind: 'finished' };
}

function lost(log: Logger): LeasedRunEnd {
  log.warn('lease was lost before the execution finished; result dropped');
  return { kind: 'lost' };
}

async function postpone(repo: ExecutionStore, id: string, holder: string, refused: Rejection, log: Logger): Promise<LeasedRunEnd> {
  const availableAt = Date.now() + refused.retryAfterMs;
  if (!(await repo.requeue(id, holder, availableAt, null))) return lost(log);
  log.info({ rejected: refused.rejected, retryInMs: refused.retryAfterMs }, 'async execution postponed: no capacity');
  return { kind: 'requeued', availableAt };
}

/** Keeps the lease of a running execution alive; stops once the execution ends or the lease was lost. */
function renewWhileRunning(repo: ExecutionStore, id: string, holder: string, leaseMs: number, log: Logger, onRenew?: () => void): () => void {
  const every = Math.max(50, Math.floor(leaseMs / 3));
  const timer = setInterval(() => {
    onRenew?.();
    void repo.renew(id, holder, Date.now() + leaseMs).then(
      (held) => {
        if (!held) {
          clearInterval(timer);
          log.warn('the lease of a running execution was lost');
        }
      },
      (err: unknown) => log.warn({ err }, 'renewing a lease failed; trying again'),
    );
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
