import type { Logger } from 'pino';
import { executionError, failure, type InvocationResult } from '../core/invocation.ts';
import type { Session, SessionHandlers, SessionRequest } from '../core/ports/invoker.ts';
import type { StreamMessage } from '../core/stream.ts';
import type { StreamSession } from '../sandbox/driver.ts';
import type { Lease } from './instance-pool.ts';
import { toInvocationResult } from './outcome.ts';

/**
 * A stream session on an exclusively leased instance of the local pool. The lease is given back when
 * the handler's outcome settles (or at once, if the session never starts).
 */
export class PooledSession implements Session {
  readonly #lease: Lease;
  readonly #request: SessionRequest;
  readonly #log: Logger;
  readonly outcome: Promise<InvocationResult>;
  #settle: (result: InvocationResult) => void = () => {};
  #stream: StreamSession | null = null;
  #state: 'reserved' | 'running' | 'done' = 'reserved';
  #ending = false;
  #graceMs = 0;
  #graceTimer: NodeJS.Timeout | undefined;
  #graceExpired = false;

  readonly #workerId: string | null;

  constructor(lease: Lease, request: SessionRequest, log: Logger, workerId: string | null = null) {
    this.#workerId = workerId;
    this.#lease = lease;
    this.#request = request;
    this.#log = log;
    this.outcome = new Promise((resolve) => (this.#settle = resolve));
  }

  get instanceId(): string {
    return this.#lease.instance.id;
  }

  get coldStart(): boolean {
    return this.#lease.coldStart;
  }

  get bufferedBytes(): number {
    return this.#stream?.bufferedBytes ?? 0;
  }

  start(handlers: SessionHandlers): boolean {
    if (this.#state !== 'reserved') throw new Error('a session starts once');
    const { instance } = this.#lease;
    const startedAt = performance.now();
    this.#state = 'running';
    try {
      this.#stream = instance.sandbox.openStream({
        executionId: this.#request.executionId,
        deadlineMs: this.#request.deadline,
        request: this.#request.request,
        maxMessageBytes: this.#request.maxMessageBytes,
        window: this.#request.window,
        onMessage: (message) => handlers.onMessage(message),
        onClose: (code, reason) => handlers.onClose(code, reason),
        onWritable: () => handlers.onWritable(),
      });
    } catch (err) {
      this.#log.error({ err, instanceId: instance.id }, 'opening a stream session failed');
      this.#finish(failure('platform_error', 'The instance became unavailable before the session started', { coldStart: this.coldStart, instanceId: instance.id }));
      return false;
    }
    instance.invocations++;
    void this.#stream.outcome.then((outcome) => {
      let result = toInvocationResult(outcome, { coldStart: this.coldStart, instanceId: instance.id, durationMs: performance.now() - startedAt });
      if (this.#graceExpired && outcome.kind !== 'ok' && outcome.kind !== 'error') {
        result = { ...result, status: 'timed_out', error: executionError('timeout', `The stream handler did not return within ${this.#graceMs} ms after the client went away`) };
      }
      this.#finish(result);
    });
    return true;
  }

  write(message: StreamMessage): boolean {
    return this.#stream?.write(message) ?? false;
  }

  release(): void {
    this.#stream?.release();
  }

  end(graceMs: number): void {
    if (this.#ending || this.#state !== 'running' || this.#stream === null) return;
    this.#ending = true;
    this.#graceMs = graceMs;
    this.#stream.end();
    this.#graceTimer = setTimeout(() => {
      this.#graceExpired = true;
      void this.#lease.instance.sandbox.kill(`the client went away and the stream handler did not return within ${graceMs} ms`);
    }, graceMs);
    this.#graceTimer.unref();
  }

  abandon(): void {
    if (this.#state !== 'reserved') return;
    this.#state = 'done';
    this.#lease.release();
  }

  #finish(result: InvocationResult): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    clearTimeout(this.#graceTimer);
    this.#lease.release();
    this.#settle({ ...result, workerId: this.#workerId });
  }
}
