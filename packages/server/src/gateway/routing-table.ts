import type { Logger } from 'pino';
import type { GatewaySnapshot, PublicFunction } from '../core/ports/store.ts';
import { Router } from './router.ts';

/** One immutable version of everything the gateway resolves requests with. */
export interface RoutingTable {
  readonly generation: number;
  readonly router: Router;
  /** Public functions by exact name (/function/{name}). */
  readonly publicFunctions: ReadonlyMap<string, PublicFunction>;
}

/** How often a gateway checks the store for another process's route changes (they must show within 5 s). */
export const ROUTE_POLL_MS = 1000;

export interface RouteSource {
  generation(): Promise<number>;
  snapshot(): Promise<GatewaySnapshot>;
}

export function buildTable(snapshot: GatewaySnapshot): RoutingTable {
  return {
    generation: snapshot.generation,
    router: new Router(snapshot.routes),
    publicFunctions: new Map(snapshot.publicFunctions.map((p) => [p.name, p])),
  };
}

/**
 * The live routing table. A change is a new table built aside and swapped in with one reference store,
 * so a request always resolves against one whole version: never a half-applied change, never a pause.
 * Changes made through this process's API refresh it before the API answers; changes made by another
 * process are noticed by polling the store's generation counter (one indexed row) every `pollMs`.
 */
export class LiveRoutes {
  readonly #source: RouteSource;
  readonly #log: Pick<Logger, 'warn' | 'error' | 'debug'>;
  #table: RoutingTable = buildTable({ generation: -1, routes: [], publicFunctions: [] });
  #running: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(source: RouteSource, log: Pick<Logger, 'warn' | 'error' | 'debug'>) {
    this.#source = source;
    this.#log = log;
  }

  get current(): RoutingTable {
    return this.#table;
  }

  /** Brings the table up to the store's generation; concurrent calls share runs, and never throw. */
  refresh(): Promise<void> {
    if (this.#running === null) {
      this.#running = this.#load().finally(() => {
        this.#running = null;
      });
      return this.#running;
    }
    // A change committed after the running load began must not be missed: one more load follows it.
    this.#queued ??= this.#running.then(() => {
      this.#queued = null;
      return this.refresh();
    });
    return this.#queued;
  }

  async #load(): Promise<void> {
    try {
      if ((await this.#source.generation()) === this.#table.generation) return;
      const snapshot = await this.#source.snapshot();
      if (snapshot.generation <= this.#table.generation) return;
      const table = buildTable(snapshot);
      for (const r of table.router.skipped) this.#log.warn({ route: `${r.method} ${r.path}`, functionId: r.functionId }, 'route left out: an earlier route claims the same requests');
      this.#table = table;
      this.#log.debug({ generation: table.generation, routes: table.router.size }, 'routing table swapped');
    } catch (err) {
      this.#log.error({ err }, 'loading the routing table failed; the previous table stays in use');
    }
  }

  start(pollMs: number): Promise<void> {
    this.#timer = setInterval(() => void this.refresh(), pollMs);
    this.#timer.unref();
    return this.refresh();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
