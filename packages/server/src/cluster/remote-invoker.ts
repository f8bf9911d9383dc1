import type { Logger } from 'pino';
import { failure, rejection, type InvocationRequest, type InvocationResult, type Rejection } from '../core/invocation.ts';
import { BusRequestError, type Bus } from '../core/ports/bus.ts';
import type { Invoker, Session, SessionRequest } from '../core/ports/invoker.ts';
import { carry, uncarry, type PayloadStash, type WorkerPicker } from './picker.ts';
import { invokeSubject } from './subjects.ts';
import type { RemoteSessions } from './remote-session.ts';

/** Past the deadline the worker enforces itself, how long a reply may still take (it is on its way). */
const REPLY_GRACE_MS = 5_000;
/** Workers tried for one invocation when the first ones are gone or full: nothing ran on those. */
const MAX_TRIES = 3;

/** An invocation as it crosses the bus: the request with its event as carried JSON text. */
export interface WireInvocation {
  request: Omit<InvocationRequest, 'event' | 'eventJson'>;
  event: { inline: string } | { ref: string };
}

/** A reply: the result (its value as carried JSON text) or a refusal. */
export type WireReply = { rejection: Rejection } | { result: Omit<InvocationResult, 'result'>; value: { inline: string } | { ref: string } };

/**
 * The invoker of a control or gateway process in distributed mode: each invocation goes by NATS
 * request/reply to one worker the picker chooses (warm first, then the lowest load). Nothing ran on a
 * worker that is gone (no responders) or full, so the next one is tried. A worker that stops answering
 * mid-call (it died, or missed its heartbeats) ends the call at once as `worker_lost`, not at the deadline.
 */
export class RemoteInvoker implements Invoker {
  readonly #bus: Bus;
  readonly #picker: WorkerPicker;
  readonly #stash: PayloadStash;
  readonly #sessions: RemoteSessions;
  readonly #log: Logger;
  readonly #livenessCheckMs: number;

  constructor(deps: { bus: Bus; picker: WorkerPicker; stash: PayloadStash; sessions: RemoteSessions; log: Logger; livenessCheckMs: number }) {
    this.#bus = deps.bus;
    this.#picker = deps.picker;
    this.#stash = deps.stash;
    this.#sessions = deps.sessions;
    this.#log = deps.log;
    this.#livenessCheckMs = deps.livenessCheckMs;
  }

  async invoke(request: InvocationRequest): Promise<InvocationResult | Rejection> {
    const { event, eventJson, ...rest } = request;
    const wire: WireInvocation = { request: rest, event: await carry(eventJson ?? JSON.stringify(event ?? null), this.#bus.maxPayload, this.#stash) };
    const body = JSON.stringify(wire);
    const tried = new Set<string>();
    let refused: Rejection | undefined;
    while (tried.size < MAX_TRIES) {
      const workerId = await this.#picker.pick(request.target, tried);
      if (workerId === undefined) break;
      tried.add(workerId);
      const reply = await this.#send(workerId, body, request);
      if (reply === 'gone') continue;
      if ('rejection' in reply) {
        refused = reply.rejection;
        continue;
      }
      if ('status' in reply) return reply;
      return { ...reply.result, result: JSON.parse(await uncarry(reply.value, this.#stash)) as unknown };
    }
    return refused ?? rejection('no_capacity', tried.size === 0 ? 'No worker is ready to run the invocation' : 'No worker could take the invocation', 1000);
  }

  openSession(request: SessionRequest): Promise<Session | Rejection | { failure: InvocationResult }> {
    return this.#sessions.open(request);
  }

  /** One try on one worker: its reply, 'gone' when nothing ran there, or a `worker_lost` failure. */
  async #send(workerId: string, body: string, request: InvocationRequest): Promise<WireReply | InvocationResult | 'gone'> {
    const started = Date.now();
    this.#picker.begin(workerId);
    const timeoutMs = Math.max(1, request.deadline - started) + REPLY_GRACE_MS;
    let watch: NodeJS.Timeout | undefined;
    const lost = new Promise<'lost'>((resolve) => {
      watch = setInterval(() => {
        void this.#picker.alive(workerId).then((alive) => alive || resolve('lost'), () => undefined);
      }, this.#livenessCheckMs);
    });
    try {
      const answer = await Promise.race([this.#bus.request(invokeSubject(workerId), body, { timeoutMs }), lost]);
      if (answer === 'lost') return this.#lost(workerId, request, started, 'stopped answering (missed its heartbeats)');
      return JSON.parse(answer) as WireReply;
    } catch (err) {
      if (err instanceof BusRequestError && err.kind === 'no_responders') return 'gone';
      if (err instanceof BusRequestError && err.kind === 'timeout') return this.#lost(workerId, request, started, `did not reply within ${timeoutMs} ms`);
      if (err instanceof BusRequestError && err.kind === 'closed') return { rejection: rejection('stopping', 'The server is stopping') };
      this.#log.error({ err, workerId, executionId: request.executionId }, 'sending an invocation to a worker failed');
      return failure('platform_error', 'The platform could not send the invocation to a worker', { durationMs: Date.now() - started });
    } finally {
      clearInterval(watch);
      this.#picker.end(workerId);
    }
  }

  #lost(workerId: string, request: InvocationRequest, started: number, why: string): InvocationResult {
    this.#log.warn({ workerId, executionId: request.executionId }, `worker ${why} during an invocation`);
    return failure('worker_lost', `The worker running the invocation (${workerId}) ${why}; it may or may not have run`, { durationMs: Date.now() - started });
  }
}
