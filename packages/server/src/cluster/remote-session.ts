import type { Logger } from 'pino';
import { newId } from '../core/ids.ts';
import { failure, rejection, type InvocationResult, type Rejection } from '../core/invocation.ts';
import { BusRequestError, type Bus, type Subscription } from '../core/ports/bus.ts';
import type { Session, SessionHandlers, SessionRequest } from '../core/ports/invoker.ts';
import type { StreamMessage } from '../core/stream.ts';
import type { WorkerPicker } from './picker.ts';
import type { OpenSessionReply, OpenSessionWire } from './session-server.ts';
import { fromWire, toWire, type FromWorker, type ToWorker } from './session-wire.ts';
import { sessionOpenSubject, sessionSubject } from './subjects.ts';

const OPEN_TIMEOUT_MS = 30_000;
/** Messages in flight to the function when the request sets no window (the local default's order). */
const DEFAULT_WINDOW = 64;

/** Opens stream sessions on the workers the picker chooses (control and gateway processes). */
export class RemoteSessions {
  readonly #bus: Bus;
  readonly #picker: WorkerPicker;
  readonly #log: Logger;
  readonly #livenessCheckMs: number;

  constructor(deps: { bus: Bus; picker: WorkerPicker; log: Logger; livenessCheckMs: number }) {
    this.#bus = deps.bus;
    this.#picker = deps.picker;
    this.#log = deps.log;
    this.#livenessCheckMs = deps.livenessCheckMs;
  }

  async open(request: SessionRequest): Promise<Session | Rejection | { failure: InvocationResult }> {
    const tried = new Set<string>();
    let refused: Rejection | undefined;
    for (let i = 0; i < 3; i++) {
      const workerId = await this.#picker.pick(request.target, tried);
      if (workerId === undefined) break;
      tried.add(workerId);
      const sessionId = newId();
      let reply: OpenSessionReply;
      try {
        const timeoutMs = Math.min(OPEN_TIMEOUT_MS, Math.max(1, request.deadline - Date.now()));
        reply = JSON.parse(await this.#bus.request(sessionOpenSubject(workerId), JSON.stringify({ sessionId, request } satisfies OpenSessionWire), { timeoutMs })) as OpenSessionReply;
      } catch (err) {
        if (err instanceof BusRequestError && err.kind === 'no_responders') continue;
        if (err instanceof BusRequestError && err.kind === 'closed') return rejection('stopping', 'The server is stopping');
        this.#log.warn({ err: String(err), workerId }, 'opening a stream session on a worker failed');
        return { failure: failure('worker_lost', `The worker ${workerId} did not answer the session's opening`) };
      }
      if ('rejection' in reply) {
        refused = reply.rejection;
        continue;
      }
      if ('failure' in reply) return reply;
      return new RemoteSession({ bus: this.#bus, picker: this.#picker, log: this.#log, livenessCheckMs: this.#livenessCheckMs, workerId, sessionId, request, ...reply.opened });
    }
    return refused ?? rejection('no_capacity', 'No worker is ready to run the stream session', 1000);
  }
}

/**
 * A session whose instance is on another worker: a local Session whose calls become messages on the
 * session's `in` subject, and whose handlers are called from its `out` subject. Its own window counts
 * the messages the function has not taken yet (the worker credits them back once it has).
 */
class RemoteSession implements Session {
  readonly instanceId: string;
  readonly coldStart: boolean;
  readonly outcome: Promise<InvocationResult>;
  readonly #bus: Bus;
  readonly #picker: WorkerPicker;
  readonly #log: Logger;
  readonly #workerId: string;
  readonly #in: string;
  readonly #out: string;
  readonly #window: number;
  readonly #livenessCheckMs: number;
  #settle: (result: InvocationResult) => void = () => {};
  #outstanding = 0;
  #full = false;
  #buffered = 0;
  #subscription: Subscription | undefined;
  #watch: NodeJS.Timeout | undefined;
  #state: 'reserved' | 'running' | 'done' = 'reserved';

  constructor(deps: { bus: Bus; picker: WorkerPicker; log: Logger; livenessCheckMs: number; workerId: string; sessionId: string; request: SessionRequest; instanceId: string; coldStart: boolean }) {
    this.#bus = deps.bus;
    this.#picker = deps.picker;
    this.#log = deps.log;
    this.#livenessCheckMs = deps.livenessCheckMs;
    this.#workerId = deps.workerId;
    this.#in = sessionSubject(deps.sessionId, 'in');
    this.#out = sessionSubject(deps.sessionId, 'out');
    this.#window = deps.request.window?.messages ?? DEFAULT_WINDOW;
    this.instanceId = deps.instanceId;
    this.coldStart = deps.coldStart;
    this.outcome = new Promise((resolve) => (this.#settle = resolve));
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  start(handlers: SessionHandlers): boolean {
    if (this.#state !== 'reserved') throw new Error('a session starts once');
    this.#state = 'running';
    this.#subscription = this.#bus.subscribe(this.#out, (data) => this.#receive(JSON.parse(data) as FromWorker, handlers));
    this.#watch = setInterval(() => {
      void this.#picker.alive(this.#workerId).then((alive) => {
        if (alive || this.#state === 'done') return;
        this.#log.warn({ workerId: this.#workerId, instanceId: this.instanceId }, 'the worker of a stream session stopped answering');
        handlers.onClose(1011, 'the worker running the session stopped');
        this.#finish(failure('worker_lost', `The worker running the session (${this.#workerId}) stopped answering`, { coldStart: this.coldStart, instanceId: this.instanceId }));
      }, () => undefined);
    }, this.#livenessCheckMs);
    this.#send({ t: 'start' });
    return true;
  }

  write(message: StreamMessage): boolean {
    if (this.#state !== 'running') return false;
    this.#outstanding++;
    this.#send({ t: 'msg', m: toWire(message) });
    this.#full = this.#outstanding >= this.#window;
    return !this.#full;
  }

  release(): void {
    this.#send({ t: 'release' });
  }

  end(graceMs: number): void {
    if (this.#state === 'running') this.#send({ t: 'end', graceMs });
  }

  abandon(): void {
    if (this.#state !== 'reserved') return;
    this.#state = 'done';
    this.#send({ t: 'abandon' });
  }

  #receive(message: FromWorker, handlers: SessionHandlers): void {
    switch (message.t) {
      case 'started':
        if (!message.ok) this.#finish(failure('platform_error', 'The instance became unavailable before the session started', { coldStart: this.coldStart, instanceId: this.instanceId }));
        return;
      case 'msg':
        this.#buffered = message.buffered;
        return handlers.onMessage(fromWire(message.m));
      case 'credit':
        this.#outstanding = Math.max(0, this.#outstanding - message.n);
        if (this.#full && this.#outstanding < this.#window) {
          this.#full = false;
          handlers.onWritable();
        }
        return;
      case 'close':
        return handlers.onClose(message.code, message.reason);
      case 'writable':
        return;
      case 'outcome':
        return this.#finish(message.result);
    }
  }

  #send(message: ToWorker): void {
    this.#bus.publish(this.#in, JSON.stringify(message)).catch((err: unknown) => this.#log.warn({ err: String(err), instanceId: this.instanceId }, 'sending a stream message to the worker failed'));
  }

  #finish(result: InvocationResult): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    clearInterval(this.#watch);
    this.#subscription?.unsubscribe();
    this.#settle(result);
  }
}
