import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';
import type { InstanceStats, SandboxInstance } from '../sandbox/driver.ts';
import { LoadTracker, type LoadReading, type LoadSettings } from './load.ts';
import type { ManagedInstance } from './managed-instance.ts';

export interface SamplerCost {
  ticks: number;
  /** Wall time spent inside ticks (the reads are synchronous, so this is also their CPU time). */
  totalMs: number;
  lastMs: number;
  lastInstances: number;
}

/** The worker process's own load: the platform process plus every instance it runs. */
export interface WorkerLoad {
  id: string;
  pid: number;
  cores: number;
  memoryLimitBytes: number;
  tracker: LoadTracker;
}

const SAMPLED_STATES: ReadonlySet<string> = new Set(['stem', 'loading', 'ready', 'busy']);

function selfIoBytes(): number | null {
  try {
    const text = readFileSync('/proc/self/io', 'utf8');
    const read = /^read_bytes:\s+(\d+)/m.exec(text);
    const write = /^write_bytes:\s+(\d+)/m.exec(text);
    return read && write ? Number(read[1]) + Number(write[1]) : null;
  } catch {
    return null;
  }
}

/**
 * One timer for all instances: every `intervalMs` it reads each live instance's stats (a few cgroupfs
 * reads, or a /proc walk without cgroups) and feeds its LoadTracker; nothing runs per invocation, and
 * a tick with no instances does nothing.
 */
export class LoadSampler {
  readonly worker: WorkerLoad;
  readonly cost: SamplerCost = { ticks: 0, totalMs: 0, lastMs: 0, lastInstances: 0 };
  readonly #settings: LoadSettings;
  readonly #source: () => { managed: ManagedInstance[]; stems: SandboxInstance[] };
  /** Last reading of every sandbox, for the worker's deltas (stem cells have no tracker of their own). */
  readonly #last = new WeakMap<SandboxInstance, InstanceStats>();
  readonly #totals = { cpuMs: 0, ioBytes: 0 };
  #lastProcess = { cpuMs: 0, ioBytes: 0 };
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  readonly #log: Pick<Logger, 'warn' | 'info'>;
  /** The platform's own RSS (read from /proc, so it fails without a spare descriptor); the last one stands in meanwhile. */
  #rss = 0;
  #rssFailing = false;

  constructor(settings: LoadSettings, source: () => { managed: ManagedInstance[]; stems: SandboxInstance[] }, log: Pick<Logger, 'warn' | 'info'>) {
    this.#settings = settings;
    this.#source = source;
    this.#log = log;
    const constrained = process.constrainedMemory();
    this.worker = {
      id: `${os.hostname()}:${process.pid}`,
      pid: process.pid,
      cores: os.availableParallelism(),
      memoryLimitBytes: constrained > 0 ? Math.min(constrained, os.totalmem()) : os.totalmem(),
      tracker: new LoadTracker(settings),
    };
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.tick(), this.#settings.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One sampling round (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    if (this.#running) return;
    const { managed, stems } = this.#source();
    if (managed.length === 0 && stems.length === 0) return;
    this.#running = true;
    const started = performance.now();
    try {
      const at = Date.now();
      const targets: Array<{ sandbox: SandboxInstance; tracker?: LoadTracker }> = [
        ...managed.map((i) => ({ sandbox: i.sandbox, tracker: i.load })),
        ...stems.map((sandbox) => ({ sandbox })),
      ].filter((t) => SAMPLED_STATES.has(t.sandbox.state));
      const readings = await Promise.all(targets.map((t) => t.sandbox.stats().catch(() => null)));
      let memoryBytes = 0;
      targets.forEach(({ sandbox, tracker }, n) => {
        const stats = readings[n];
        if (stats === null) return;
        const last = this.#last.get(sandbox);
        if (last !== undefined) {
          this.#totals.cpuMs += Math.max(0, stats.cpuMs - last.cpuMs);
          this.#totals.ioBytes += Math.max(0, (stats.ioBytes ?? 0) - (last.ioBytes ?? 0));
        }
        this.#last.set(sandbox, stats);
        memoryBytes += stats.memoryBytes;
        // A runtime runs user code on one thread (Node's event loop, Python's GIL): its capacity is its
        // quota, and never more than one core, which saturates it even when the quota allows more.
        tracker?.update({ at, cpuMs: stats.cpuMs, cpuCores: Math.min(1, stats.cpuLimitCores ?? 1), memoryBytes: stats.memoryBytes, memoryLimitBytes: stats.memoryLimitBytes, ioBytes: stats.ioBytes });
      });
      this.#sampleWorker(at, memoryBytes);
      this.cost.lastInstances = targets.length;
    } finally {
      this.#running = false;
      this.cost.ticks++;
      this.cost.lastMs = performance.now() - started;
      this.cost.totalMs += this.cost.lastMs;
    }
  }

  #sampleWorker(at: number, instanceMemoryBytes: number): void {
    const usage = process.cpuUsage();
    const self = { cpuMs: (usage.user + usage.system) / 1000, ioBytes: selfIoBytes() ?? this.#lastProcess.ioBytes };
    this.#totals.cpuMs += Math.max(0, self.cpuMs - this.#lastProcess.cpuMs);
    this.#totals.ioBytes += Math.max(0, self.ioBytes - this.#lastProcess.ioBytes);
    this.#lastProcess = self;
    const reading: LoadReading = {
      at,
      cpuMs: this.#totals.cpuMs,
      cpuCores: this.worker.cores,
      memoryBytes: instanceMemoryBytes + this.#ownRss(),
      memoryLimitBytes: this.worker.memoryLimitBytes,
      ioBytes: this.#totals.ioBytes,
    };
    this.worker.tracker.update(reading);
  }

  /** Logged once per spell of failures (EMFILE when the process is out of descriptors), not per tick. */
  #ownRss(): number {
    try {
      this.#rss = process.memoryUsage.rss();
      if (this.#rssFailing) this.#log.info("reading the platform's own memory works again");
      this.#rssFailing = false;
    } catch (err) {
      if (!this.#rssFailing) this.#log.warn({ err }, "reading the platform's own memory failed; load sampling goes on with the last reading");
      this.#rssFailing = true;
    }
    return this.#rss;
  }
}
