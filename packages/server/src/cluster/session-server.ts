import type { Logger } from 'pino';
import { isRejection, rejection, type InvocationResult, type Rejection } from '../core/invocation.ts';
import type { Bus, Subscription } from '../core/ports/bus.ts';
import type { Invoker, Session, SessionRequest } from '../core/ports/invoker.ts';
import { fromWire, toWire, type FromWorker, type ToWorker } from './session-wire.ts';
import { sessionOpenSubject, sessionSubject } from './subjects.ts';

/** How long a reserved instance waits for its session to start. */
const START_WITHIN_MS = 30_000;

/** What the open request carries and its reply. */
export interface OpenSessionWire {
  sessionId: string;
  request: SessionRequest;
}
export type OpenSessionReply = { opened: { instanceId: string; coldStart: boolean } } | { rejection: Rejection } | { failure: InvocationResult };

/**
 * A worker's side of remote stream sessions: reserves an exclusive instance of its pool for each
 * session opened on its subject, then relays the session's messages both ways. A message the function
 * has not taken yet (its window is full) is credited back only once it has, so the sender's window
 * spans the whole path.
 */
export class SessionServer {
  readonly #bus: Bus;
  readonly #log: Logger;
  readonly #subscription: Subscription;
  readonly #open = new Map<string, { session: Session; inbox: Subscription }>();
  #draining = false;

  constructor(deps: { bus: Bus; workerId: string; invoker: Invoker; log: Logger }) {
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#subscription = deps.bus.serve(sessionOpenSubject(deps.workerId), async (data) => {
      if (this.#draining) return JSON.stringify({ rejection: rejection('stopping', 'The worker is draining') } satisfies OpenSessionReply);
      const { sessionId, request } = JSON.parse(data) as OpenSessionWire;
      const opened = await deps.invoker.openSession(request);
      if (isRejection(opened)) return JSON.stringify({ rejection: opened } satisfies OpenSessionReply);
      if ('failure' in opened) return JSON.stringify({ failure: opened.failure } satisfies OpenSessionReply);
      this.#relay(sessionId, opened);
      return JSON.stringify({ opened: { instanceId: opened.instanceId, coldStart: opened.coldStart } } satisfies OpenSessionReply);
    });
  }

  /** Sessions open now. */
  get open(): number {
    return this.#open.size;
  }

  drain(): void {
    this.#draining = true;
  }

  stop(): void {
    this.#subscription.unsubscribe();
    for (const { session } of this.#open.values()) {
      session.abandon();
      session.end(0);
    }
  }

  #relay(sessionId: string, session: Session): void {
    const out = sessionSubject(sessionId, 'out');
    const send = (message: FromWorker): void => {
      this.#bus.publish(out, JSON.stringify(message)).catch((err: unknown) => this.#log.warn({ err: String(err), sessionId }, 'sending a stream message to the gateway failed'));
    };
    let heldCredits = 0;
    // A gateway that died between reserving and starting: the instance goes back.
    const unclaimed = setTimeout(() => {
      session.abandon();
      this.#close(sessionId);
    }, START_WITHIN_MS);
    unclaimed.unref();
    const inbox = this.#bus.subscribe(sessionSubject(sessionId, 'in'), (data) => {
      const message = JSON.parse(data) as ToWorker;
      switch (message.t) {
        case 'start': {
          clearTimeout(unclaimed);
          const ok = session.start({
            onMessage: (m) => send({ t: 'msg', m: toWire(m), buffered: session.bufferedBytes }),
            onClose: (code, reason) => send({ t: 'close', code, reason }),
            onWritable: () => {
              send({ t: 'writable' });
              if (heldCredits > 0) send({ t: 'credit', n: heldCredits });
              heldCredits = 0;
            },
          });
          send({ t: 'started', ok });
          void session.outcome.then((result) => {
            send({ t: 'outcome', result });
            this.#close(sessionId);
          });
          return;
        }
        case 'msg':
          if (session.write(fromWire(message.m))) send({ t: 'credit', n: 1 });
          else heldCredits++;
          return;
        case 'release':
          return session.release();
        case 'end':
          return session.end(message.graceMs);
        case 'abandon':
          clearTimeout(unclaimed);
          session.abandon();
          return this.#close(sessionId);
      }
    });
    this.#open.set(sessionId, { session, inbox });
  }

  #close(sessionId: string): void {
    this.#open.get(sessionId)?.inbox.unsubscribe();
    this.#open.delete(sessionId);
  }
}
