import type { Logger } from 'pino';
import type { Bus, Subscription } from '../core/ports/bus.ts';
import type { ClusterView, SessionPoolView, SystemReport } from '../core/ports/cluster.ts';
import type { RegisteredWorker } from '../core/ports/workers.ts';
import type { ClusterDetails } from './registry-cluster-view.ts';
import { infoSubject } from './subjects.ts';

type InfoQuestion = { what: 'system' } | { what: 'sessionPools'; functionId: string };

const ASK_TIMEOUT_MS = 2_000;

/** A worker answers what heartbeats leave out, from its own view of itself. */
export function serveWorkerInfo(bus: Bus, workerId: string, local: Pick<ClusterView, 'system' | 'sessionPools'>): Subscription {
  return bus.serve(infoSubject(workerId), async (data) => {
    const question = JSON.parse(data) as InfoQuestion;
    return JSON.stringify(question.what === 'system' ? await local.system() : await local.sessionPools(question.functionId));
  });
}

/**
 * The details of the cluster view in a control process: the sandbox of the workers (asked of one of
 * them; this process's own when none answers) and a function's session pools on every live worker.
 */
export class RemoteDetails implements ClusterDetails {
  readonly #bus: Bus;
  readonly #workers: () => Promise<RegisteredWorker[]>;
  readonly #ownSystem: () => Promise<SystemReport>;
  readonly #log: Logger;

  constructor(deps: { bus: Bus; workers: () => Promise<RegisteredWorker[]>; ownSystem: () => Promise<SystemReport>; log: Logger }) {
    this.#bus = deps.bus;
    this.#workers = deps.workers;
    this.#ownSystem = deps.ownSystem;
    this.#log = deps.log;
  }

  async system(): Promise<SystemReport> {
    for (const worker of (await this.#workers()).filter((w) => w.roles.includes('worker'))) {
      const answer = await this.#ask<SystemReport>(worker.id, { what: 'system' });
      if (answer !== undefined) return answer;
    }
    return this.#ownSystem();
  }

  async sessionPools(functionId: string): Promise<SessionPoolView[]> {
    const workers = (await this.#workers()).filter((w) => w.roles.includes('worker'));
    const answers = await Promise.all(workers.map((w) => this.#ask<SessionPoolView[]>(w.id, { what: 'sessionPools', functionId })));
    const byVersion = new Map<number, SessionPoolView>();
    for (const pool of answers.flatMap((a) => a ?? [])) {
      const known = byVersion.get(pool.version);
      if (known === undefined) byVersion.set(pool.version, { ...pool, instances: [...pool.instances] });
      else {
        known.starting += pool.starting;
        known.instances.push(...pool.instances);
      }
    }
    return [...byVersion.values()].sort((a, b) => a.version - b.version);
  }

  async #ask<T>(workerId: string, question: InfoQuestion): Promise<T | undefined> {
    try {
      return JSON.parse(await this.#bus.request(infoSubject(workerId), JSON.stringify(question), { timeoutMs: ASK_TIMEOUT_MS })) as T;
    } catch (err) {
      this.#log.debug({ err: String(err), workerId }, 'a worker did not answer a question about itself');
      return undefined;
    }
  }
}
