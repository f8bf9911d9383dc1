/**
 * The load score of an instance (or a worker process): raw readings → 0..1 utilisations → smoothed
 * with an exponential moving average → one weighted score. Pure arithmetic; docs/metrics.md explains it.
 */

import type { LoadSettings, Utilisation } from '../config/options.ts';

export type { LoadSettings, Utilisation };

/** One sample of cumulative counters and current levels. */
export interface LoadReading {
  /** Epoch ms of the sample. */
  at: number;
  /** CPU time used since start, ms. */
  cpuMs: number;
  /** Cores the reading's CPU time is measured against (a quota, or 1 for a single-threaded runtime). */
  cpuCores: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  /** Cumulative block bytes read + written, null when unknown (counts as no I/O). */
  ioBytes: number | null;
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/**
 * Utilisations between two readings of the same thing. cpu = CPU time delta / wall delta / cores;
 * memory = usage / limit (the current level, not a delta); io = bytes/s / reference. All clamped to
 * 0..1 (a counter that went backwards — a process left the group — counts as 0).
 */
export function utilisation(previous: LoadReading, current: LoadReading, ioReferenceBytesPerSec: number): Utilisation {
  const wallMs = current.at - previous.at;
  const cpu = wallMs > 0 ? (current.cpuMs - previous.cpuMs) / wallMs / current.cpuCores : 0;
  const ioDelta = current.ioBytes !== null && previous.ioBytes !== null ? current.ioBytes - previous.ioBytes : 0;
  const io = wallMs > 0 ? ioDelta / (wallMs / 1000) / ioReferenceBytesPerSec : 0;
  return { cpu: clamp01(cpu), memory: clamp01(current.memoryBytes / current.memoryLimitBytes), io: clamp01(io) };
}

/** One EMA step per resource; with no history yet the sample itself is the average. */
export function smooth(previous: Utilisation | null, sample: Utilisation, factor: number): Utilisation {
  if (previous === null) return { ...sample };
  const step = (old: number, next: number): number => factor * old + (1 - factor) * next;
  return { cpu: step(previous.cpu, sample.cpu), memory: step(previous.memory, sample.memory), io: step(previous.io, sample.io) };
}

/** score = α·cpu + β·memory + γ·io. */
export function score(ema: Utilisation, weights: Utilisation): number {
  return weights.cpu * ema.cpu + weights.memory * ema.memory + weights.io * ema.io;
}

/** The load state of one instance or process, fed one reading per sampling tick. */
export class LoadTracker {
  /** Last raw reading. */
  reading: LoadReading | null = null;
  /** Utilisations from the last two readings (null until there are two). */
  utilisation: Utilisation | null = null;
  ema: Utilisation | null = null;
  /** 0 until the first utilisation: a new instance counts as idle. */
  score = 0;
  readonly #settings: LoadSettings;

  constructor(settings: LoadSettings) {
    this.#settings = settings;
  }

  update(reading: LoadReading): void {
    const previous = this.reading;
    this.reading = reading;
    if (previous === null) return;
    this.utilisation = utilisation(previous, reading, this.#settings.ioReferenceBytesPerSec);
    this.ema = smooth(this.ema, this.utilisation, this.#settings.emaFactor);
    this.score = score(this.ema, this.#settings.weights);
  }

  get saturated(): boolean {
    return this.score >= this.#settings.saturationScore;
  }
}
