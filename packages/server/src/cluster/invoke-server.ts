import type { Logger } from 'pino';
import { isRejection, rejection } from '../core/invocation.ts';
import type { Bus, Subscription } from '../core/ports/bus.ts';
import type { Invoker } from '../core/ports/invoker.ts';
import { carry, uncarry, type PayloadStash } from './picker.ts';
import type { WireInvocation, WireReply } from './remote-invoker.ts';
import { invokeSubject } from './subjects.ts';

/**
 * A worker's side of remote invocations: answers requests on its own subject with its local invoker.
 * While draining it refuses new ones (`stopping`: the caller tries another worker) and answers the
 * ones already running.
 */
export class InvokeServer {
  readonly #subscription: Subscription;
  #draining = false;
  #running = 0;

  constructor(deps: { bus: Bus; workerId: string; invoker: Invoker; stash: PayloadStash; log: Logger }) {
    const { bus, invoker, stash, log } = deps;
    this.#subscription = bus.serve(invokeSubject(deps.workerId), async (data) => {
      if (this.#draining) return JSON.stringify({ rejection: rejection('stopping', 'The worker is draining') } satisfies WireReply);
      this.#running++;
      try {
        const wire = JSON.parse(data) as WireInvocation;
        const eventJson = await uncarry(wire.event, stash);
        const ran = await invoker.invoke({ ...wire.request, event: JSON.parse(eventJson) as unknown, eventJson });
        if (isRejection(ran)) return JSON.stringify({ rejection: ran } satisfies WireReply);
        const { result, ...rest } = ran;
        return JSON.stringify({ result: rest, value: await carry(JSON.stringify(result ?? null), bus.maxPayload, stash) } satisfies WireReply);
      } catch (err) {
        log.error({ err }, 'a remote invocation failed inside the worker');
        throw err;
      } finally {
        this.#running--;
      }
    });
  }

  /** Invocations being answered now. */
  get running(): number {
    return this.#running;
  }

  /** No new invocations (they are refused, so callers go elsewhere); those running go on. */
  drain(): void {
    this.#draining = true;
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }
}
