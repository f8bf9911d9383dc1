import { Counter, Gauge, type Registry } from '@prometheus-io/client';
import type { AutoscalerMetrics, AutoscalerSample } from '../core/metrics.ts';

/** The autoscaler's series (docs/metrics.md), on the process's registry: `new PrometheusAutoscalerMetrics(metrics.registry)`. */
export class PrometheusAutoscalerMetrics implements AutoscalerMetrics {
  readonly #desired: Gauge;
  readonly #ready: Gauge;
  readonly #demand: Gauge;
  readonly #decisions: Counter<'decision'>;
  readonly #failures: Counter<'stage'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#desired = new Gauge({ name: 'skyscale_autoscaler_desired_workers', help: 'The worker count the autoscaler wants, as of its last tick', registers });
    this.#ready = new Gauge({ name: 'skyscale_autoscaler_ready_workers', help: 'The ready workers the autoscaler counted at its last tick', registers });
    this.#demand = new Gauge({ name: 'skyscale_autoscaler_demand', help: 'Executions waiting or running (pending + ack-pending + sync queue) at the last tick', registers });
    this.#decisions = new Counter({ name: 'skyscale_autoscaler_decisions_total', help: 'Autoscaler ticks by decision', labelNames: ['decision'], registers });
    this.#failures = new Counter({ name: 'skyscale_autoscaler_failures_total', help: 'Autoscaler ticks that could not read their inputs or apply a change', labelNames: ['stage'], registers });
  }

  decision(s: AutoscalerSample): void {
    this.#desired.set(s.desired);
    this.#ready.set(s.ready);
    this.#demand.set(s.demand);
    this.#decisions.labels({ decision: s.decision }).inc();
  }

  failure(stage: 'read' | 'actuate'): void {
    this.#failures.labels({ stage }).inc();
  }
}
