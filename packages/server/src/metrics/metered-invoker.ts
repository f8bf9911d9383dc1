import { AppError } from '../core/errors.ts';
import type { InvocationContext, InvocationResult, InvocationTarget, Invoker } from '../core/invoker.ts';
import type { PlatformMetrics } from '../core/metrics.ts';

/**
 * Wraps the engine so every invocation attempt is counted where its outcome is known, whoever
 * asked for it (sync API, async worker, gateway). Recording is a few map lookups per call.
 */
export function meteredInvoker(inner: Invoker, metrics: PlatformMetrics): Invoker {
  return {
    async invoke(target: InvocationTarget, event: unknown, context: InvocationContext): Promise<InvocationResult> {
      const mode = context.mode ?? 'sync';
      let result: InvocationResult;
      try {
        result = await inner.invoke(target, event, context);
      } catch (err) {
        if (err instanceof AppError && err.code === 'RATE_LIMITED') metrics.rejection({ functionId: target.functionId, functionName: target.functionName, mode, reason: 'queue_full' });
        throw err;
      }
      metrics.invocation({
        functionId: target.functionId,
        functionName: target.functionName,
        runtime: target.runtime,
        mode,
        status: result.status,
        errorReason: result.error?.reason ?? null,
        durationMs: result.durationMs,
        coldStart: result.coldStart,
      });
      return result;
    },
  };
}
