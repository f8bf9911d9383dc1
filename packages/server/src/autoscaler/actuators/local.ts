import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ScaleReason } from '../decide.ts';
import type { Actuator } from './actuator.ts';

/** packages/server/bin/skyscale.js of this checkout. */
export const SKYSCALE_BIN = path.resolve(import.meta.dirname, '../../../bin/skyscale.js');

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface LocalWorkerExit {
  readonly id: string;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** It exited because it was drained (or stopped); false: it died by itself, or never started. */
  readonly expected: boolean;
  /** It did not exit within the drain timeout and was sent SIGKILL. */
  readonly killed: boolean;
}

export interface LocalActuatorOptions {
  readonly log: Logger;
  /** The program: this node (process.execPath) by default. */
  readonly command?: string;
  /** Its arguments: `<repo>/packages/server/bin/skyscale.js serve --role worker` by default. */
  readonly args?: readonly string[];
  /** The environment each worker starts from: this process's by default. WORKER_ID is set over it. */
  readonly env?: NodeJS.ProcessEnv;
  /** WORKER_ID is `<idPrefix>-<n>`, n counting up from 1 and never reused; `<host>-<pid>` of this process by default. */
  readonly idPrefix?: string;
  /** How long a drained worker has to exit after SIGTERM before SIGKILL. */
  readonly drainTimeoutMs?: number;
  /** The workers' stdout and stderr: this process's (`inherit`, the default) or discarded. */
  readonly output?: 'inherit' | 'ignore';
  /** Told of every worker's exit, expected or not. */
  readonly onExit?: (exit: LocalWorkerExit) => void;
}

interface LocalWorker {
  readonly id: string;
  readonly n: number;
  readonly child: ChildProcess;
  state: 'running' | 'draining';
  killed: boolean;
  readonly exited: Promise<void>;
}

/**
 * AUTOSCALER_ACTUATOR=local: worker processes on this host, children of this one. Scaling up starts
 * `skyscale serve --role worker` processes, each with a WORKER_ID of its own. Scaling down drains the
 * newest: SIGTERM, upon which the worker role stops taking work, finishes what it runs and exits; after
 * the drain timeout, SIGKILL. Drains go on in the background (scaleTo() resolves once they are asked
 * for; settled() waits for them). A worker that dies by itself is logged and counted out, not
 * restarted: the next tick sees one worker fewer and scales up again if the demand says so.
 */
export class LocalActuator implements Actuator {
  readonly kind = 'local';
  readonly #options: LocalActuatorOptions;
  readonly #prefix: string;
  readonly #workers = new Map<string, LocalWorker>();
  #next = 1;
  #serial: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(options: LocalActuatorOptions) {
    this.#options = options;
    this.#prefix = options.idPrefix ?? `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(-100);
  }

  /** The workers not being drained. */
  async current(): Promise<number> {
    return this.#running().length;
  }

  /** Every worker process now, draining ones included. */
  workers(): Array<{ id: string; pid: number | undefined; state: 'running' | 'draining' }> {
    return [...this.#workers.values()].map((w) => ({ id: w.id, pid: w.child.pid, state: w.state }));
  }

  scaleTo(n: number, reason: ScaleReason): Promise<void> {
    const run = this.#serial.then(() => this.#scaleTo(n, reason));
    this.#serial = run.catch(() => {});
    return run;
  }

  /** Resolves once every drain asked for so far has ended (the processes have exited). */
  async settled(): Promise<void> {
    await this.#serial;
    await Promise.all([...this.#workers.values()].filter((w) => w.state === 'draining').map((w) => w.exited));
  }

  /** Drains every worker and waits for them all to exit; no scaling after this. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#serial.catch(() => {});
    for (const worker of this.#running()) this.#drain(worker, 'stop');
    await Promise.all([...this.#workers.values()].map((w) => w.exited));
  }

  #running(): LocalWorker[] {
    return [...this.#workers.values()].filter((w) => w.state === 'running');
  }

  async #scaleTo(n: number, reason: ScaleReason): Promise<void> {
    if (this.#stopped) throw new Error('the local actuator is stopped');
    if (!Number.isInteger(n) || n < 0) throw new Error(`cannot scale to ${n} workers`);
    const running = this.#running();
    if (n < running.length) {
      const newestFirst = running.sort((a, b) => b.n - a.n);
      for (const worker of newestFirst.slice(0, running.length - n)) this.#drain(worker, reason);
      return;
    }
    const started: Promise<void>[] = [];
    for (let i = running.length; i < n; i++) started.push(this.#start());
    const results = await Promise.allSettled(started);
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw new Error(`${failed.length} of ${started.length} workers did not start: ${String((failed[0] as PromiseRejectedResult).reason?.message ?? failed[0])}`);
  }

  #start(): Promise<void> {
    const o = this.#options;
    const n = this.#next++;
    const id = `${this.#prefix}-${n}`;
    const child = spawn(o.command ?? process.execPath, [...(o.args ?? [SKYSCALE_BIN, 'serve', '--role', 'worker'])], {
      env: { ...(o.env ?? process.env), WORKER_ID: id },
      stdio: ['ignore', o.output ?? 'inherit', o.output ?? 'inherit'],
    });
    let resolveExited!: () => void;
    const worker: LocalWorker = { id, n, child, state: 'running', killed: false, exited: new Promise<void>((resolve) => (resolveExited = resolve)) };
    this.#workers.set(id, worker);
    let spawned = false;
    const ended = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (!this.#workers.has(id)) return;
      this.#workers.delete(id);
      const expected = worker.state === 'draining';
      const exit: LocalWorkerExit = { id, pid: child.pid, code, signal, expected, killed: worker.killed };
      if (error !== undefined) o.log.error({ err: error, workerId: id }, `autoscaler: worker ${id} could not be started`);
      else if (expected) o.log.info({ ...exit }, `autoscaler: worker ${id} drained and exited (${signal ?? `code ${code}`}${worker.killed ? ', killed after the drain timeout' : ''})`);
      else o.log.error({ ...exit }, `autoscaler: worker ${id} exited unexpectedly (${signal ?? `code ${code}`}); counted out, not restarted`);
      resolveExited();
      o.onExit?.(exit);
    };
    child.on('exit', (code, signal) => ended(code, signal));
    return new Promise<void>((resolve, reject) => {
      child.once('spawn', () => {
        spawned = true;
        o.log.info({ workerId: id, pid: child.pid }, `autoscaler: started worker ${id}`);
        resolve();
      });
      child.once('error', (err) => {
        if (spawned) {
          o.log.warn({ err, workerId: id }, `autoscaler: worker ${id}: ${err.message}`);
          return;
        }
        ended(null, null, err);
        reject(err);
      });
    });
  }

  #drain(worker: LocalWorker, reason: string): void {
    const timeoutMs = this.#options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    worker.state = 'draining';
    this.#options.log.info({ workerId: worker.id, pid: worker.child.pid, reason, drainTimeoutMs: timeoutMs }, `autoscaler: draining worker ${worker.id}`);
    worker.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      worker.killed = true;
      this.#options.log.warn({ workerId: worker.id, pid: worker.child.pid }, `autoscaler: worker ${worker.id} still running ${timeoutMs} ms after SIGTERM; SIGKILL`);
      worker.child.kill('SIGKILL');
    }, timeoutMs);
    void worker.exited.then(() => clearTimeout(timer));
  }
}
