import { isRejection, type InvocationMode, type InvocationResult, type InvocationTarget, type Rejection } from '../core/invocation.ts';
import type { Invoker, Session } from '../core/ports/invoker.ts';
import type { PlatformMetrics } from '../core/metrics.ts';

/**
 * Wraps an invoker so every invocation attempt and session is counted where its outcome is known,
 * whoever asked for it (sync API, async worker, gateway, streams). Recording is a few map lookups.
 */
export function instrumentedInvoker(inner: Invoker, metrics: PlatformMetrics): Invoker {
  const record = (target: InvocationTarget, mode: InvocationMode, result: InvocationResult | Rejection): void => {
    if (isRejection(result)) {
      metrics.rejection({ functionId: target.functionId, functionName: target.functionName, mode, reason: result.rejected });
      return;
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
  };
  return {
    async invoke(request) {
      const result = await inner.invoke(request);
      record(request.target, request.mode, result);
      return result;
    },
    async openSession(request) {
      const opened = await inner.openSession(request);
      if (isRejection(opened)) record(request.target, 'stream', opened);
      else if ('failure' in opened) record(request.target, 'stream', opened.failure);
      else void (opened as Session).outcome.then((result) => record(request.target, 'stream', result));
      return opened;
    },
  };
}
