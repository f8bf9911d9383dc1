import type { Logger } from 'pino';
import { BusRequestError, type Subscription } from '../../core/ports/bus.ts';

type Handler = (data: string) => Promise<string>;

interface Server {
  handler: Handler;
  queue: string | undefined;
}

/** In-process request/serve: servers without a queue each get a request, one server per queue group does (round robin). */
export class MemoryRequests {
  readonly #servers = new Map<string, Server[]>();
  readonly #turns = new Map<string, number>();
  readonly #pending = new Set<(err: BusRequestError) => void>();
  readonly #log: Pick<Logger, 'error'>;

  constructor(log: Pick<Logger, 'error'>) {
    this.#log = log;
  }

  serve(subject: string, handler: Handler, queue: string | undefined): Subscription {
    const server: Server = { handler, queue };
    const list = this.#servers.get(subject) ?? [];
    this.#servers.set(subject, [...list, server]);
    return {
      unsubscribe: () => {
        const rest = (this.#servers.get(subject) ?? []).filter((s) => s !== server);
        if (rest.length === 0) this.#servers.delete(subject);
        else this.#servers.set(subject, rest);
      },
    };
  }

  request(subject: string, data: string, timeoutMs: number): Promise<string> {
    const chosen = this.#choose(subject);
    if (chosen.length === 0) return Promise.reject(new BusRequestError('no_responders', `nobody serves ${subject}`));
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const fail = (err: BusRequestError) => finish(() => reject(err));
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#pending.delete(fail);
        settle();
      };
      const timer = setTimeout(() => fail(new BusRequestError('timeout', `no reply on ${subject} within ${timeoutMs} ms`)), timeoutMs);
      this.#pending.add(fail);
      for (const server of chosen) {
        // A copy of the request per server, as over a network; the first reply wins.
        Promise.resolve()
          .then(() => server.handler(data))
          .then(
            (reply) => finish(() => resolve(reply)),
            (err) => this.#log.error({ err, subject }, 'a bus server failed; the request gets no reply'),
          );
      }
    });
  }

  close(): void {
    for (const fail of [...this.#pending]) fail(new BusRequestError('closed', 'the bus is closed'));
    this.#servers.clear();
  }

  #choose(subject: string): Server[] {
    const servers = this.#servers.get(subject) ?? [];
    const groups = new Map<string, Server[]>();
    const chosen: Server[] = [];
    for (const s of servers) {
      if (s.queue === undefined) chosen.push(s);
      else groups.set(s.queue, [...(groups.get(s.queue) ?? []), s]);
    }
    for (const [queue, members] of groups) {
      const key = `${subject}\u0000${queue}`;
      const turn = this.#turns.get(key) ?? 0;
      this.#turns.set(key, turn + 1);
      chosen.push(members[turn % members.length]!);
    }
    return chosen;
  }
}
