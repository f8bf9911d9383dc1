import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';
import { lazyChild } from '../core/lazy-logger.ts';
import { failure, isRejection, type InvocationRequest, type InvocationResult, type InvocationTarget, type Rejection } from '../core/invocation.ts';
import type { Invoker, Session, SessionRequest } from '../core/ports/invoker.ts';
import { SecretsUnavailableError, type SecretResolver } from '../core/ports/secrets.ts';
import type { AcquireSpec, InstancePool } from './instance-pool.ts';
import { toInvocationResult } from './outcome.ts';
import { PooledSession } from './session.ts';

const NO_SECRETS = Object.freeze({ env: Object.freeze({}) as Record<string, string>, digest: '' });

/**
 * The invoker of this worker: resolves what a data-only request names (secrets by name; the code by
 * hash, when an instance is loaded) and runs it on a lease of the local pool. Each log line it writes
 * carries the execution id and the request id.
 */
export class LocalInvoker implements Invoker {
  readonly #pool: InstancePool;
  readonly #secrets: SecretResolver;
  readonly #log: Logger;
  /** WORKER_ID: stamped on every result this worker produced, so the execution record names it. */
  readonly #workerId: string | null;
  /** Per target object (stable while its function record is cached) and secret digest: built once, not per call. */
  readonly #specs = new WeakMap<InvocationTarget, AcquireSpec>();

  constructor(deps: { pool: InstancePool; secrets: SecretResolver; log: Logger; workerId?: string }) {
    this.#pool = deps.pool;
    this.#workerId = deps.workerId ?? null;
    this.#secrets = deps.secrets;
    this.#log = deps.log;
  }

  async invoke(request: InvocationRequest): Promise<InvocationResult | Rejection> {
    const result = await this.#invoke(request);
    return isRejection(result) ? result : { ...result, workerId: this.#workerId };
  }

  async #invoke(request: InvocationRequest): Promise<InvocationResult | Rejection> {
    const startedAt = performance.now();
    const elapsed = (): number => performance.now() - startedAt;
    const log = this.#logFor(request);
    const spec = await this.#spec(request.target, log);
    if ('failure' in spec) return spec.failure;
    const acquired = await this.#pool.acquire(spec, { deadline: request.deadline, kind: 'invoke', log });
    if (isRejection(acquired)) return acquired;
    if ('failure' in acquired) return { ...acquired.failure, durationMs: elapsed() };
    const { instance, coldStart } = acquired;
    if (request.objectRefs?.length) instance.grants.set(request.executionId, request.objectRefs);
    try {
      const outcome = await instance.sandbox.invoke({ executionId: request.executionId, event: request.event, eventJson: request.eventJson, deadlineMs: request.deadline });
      instance.invocations++;
      const result = toInvocationResult(outcome, { coldStart, instanceId: instance.id, durationMs: elapsed() });
      if (this.#log.isLevelEnabled('debug')) log.debug({ status: result.status, reason: result.error?.reason, durationMs: result.durationMs, coldStart, instanceId: instance.id }, 'invocation finished');
      return result;
    } catch (err) {
      log.error({ err, instanceId: instance.id }, 'invoke failed inside the platform');
      void instance.sandbox.kill('platform error');
      return failure('platform_error', 'The platform failed to run the invocation', { coldStart, instanceId: instance.id, durationMs: elapsed() });
    } finally {
      instance.grants.delete(request.executionId);
      acquired.release();
    }
  }

  async openSession(request: SessionRequest): Promise<Session | Rejection | { failure: InvocationResult }> {
    const log = this.#logFor(request);
    const spec = await this.#spec(request.target, log);
    if ('failure' in spec) return spec;
    const acquired = await this.#pool.acquire(spec, { deadline: request.deadline, kind: 'stream', log });
    if (isRejection(acquired)) return acquired;
    if ('failure' in acquired) return { failure: { ...acquired.failure, workerId: this.#workerId } };
    return new PooledSession(acquired, request, log, this.#workerId);
  }

  #logFor(request: { executionId: string; requestId?: string; target: InvocationTarget }): Logger {
    return lazyChild(this.#log, { executionId: request.executionId, requestId: request.requestId, functionId: request.target.functionId });
  }

  async #spec(target: InvocationTarget, log: Logger): Promise<AcquireSpec | { failure: InvocationResult }> {
    let secrets: { env: Record<string, string>; digest: string };
    try {
      secrets = target.secrets.length === 0 ? NO_SECRETS : await this.#secrets.resolve(target.ownerId, target.secrets);
    } catch (err) {
      if (err instanceof SecretsUnavailableError) return { failure: failure('secrets_unavailable', err.message) };
      if (err instanceof AppError) return { failure: failure('bad_input', err.message) };
      log.error({ err }, 'resolving secrets failed');
      return { failure: failure('platform_error', 'The platform could not resolve the secrets of the function') };
    }
    const known = this.#specs.get(target);
    if (known !== undefined && known.envDigest === secrets.digest) return known;
    const spec: AcquireSpec = { target, env: secrets === NO_SECRETS ? target.env : { ...target.env, ...secrets.env }, envDigest: secrets.digest };
    this.#specs.set(target, spec);
    return spec;
  }
}
