import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from '@prometheus-io/client';
import type { InvocationSample, PlatformMetrics, RejectionSample, RequestSample } from '../core/metrics.ts';

/** Point-in-time state read at scrape time; main.ts wires it to the scheduler and the store. */
export interface MetricsSources {
  instances(): Array<{ id: string; functionId: string; functionName: string; runtime: string; state: string; inFlight: number; score: number }>;
  stemCells(): Array<{ runtime: string; state: string }>;
  waiting(): Array<{ functionId: string; functionName: string; waiters: number }>;
  asyncQueued(): Promise<number>;
  worker(): { utilisation: { cpu: number; memory: number; io: number } | null; score: number };
  sampler(): { ticks: number; totalMs: number };
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

type Inc = { inc: (value?: number) => void };
type Observe = { observe: (value: number) => void };
interface InvocationSeries { invocations: Inc; errors: Inc | undefined; coldStarts: Inc | undefined; duration: Observe }

/**
 * The Prometheus registry of one platform process (docs/metrics.md lists every metric). Hot-path
 * recording caches the labelled children by a joined key, so an invocation costs a few Map lookups.
 */
export class PrometheusMetrics implements PlatformMetrics {
  readonly registry = new Registry();
  readonly #invocations: Counter<'function' | 'function_id' | 'runtime' | 'mode' | 'status'>;
  readonly #errors: Counter<'function' | 'function_id' | 'mode' | 'status' | 'reason'>;
  readonly #coldStarts: Counter<'function' | 'function_id' | 'runtime'>;
  readonly #duration: Histogram<'function' | 'function_id' | 'mode' | 'start'>;
  readonly #rejections: Counter<'function' | 'function_id' | 'mode' | 'reason'>;
  readonly #deadLettered: Counter<'function' | 'function_id'>;
  readonly #requests: Counter<'plane' | 'route' | 'method' | 'status'>;
  readonly #requestDuration: Histogram<'plane' | 'route' | 'method'>;
  readonly #children = new Map<string, Inc | Observe>();
  /** Per function id: its label values and the children of each kind of sample seen (hot path: two Map lookups). */
  readonly #functions = new Map<string, { name: string; runtime: string; series: Map<string, InvocationSeries> }>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#invocations = new Counter({ name: 'skyscale_invocations_total', help: 'Finished invocation attempts by terminal status and how they arrived', labelNames: ['function', 'function_id', 'runtime', 'mode', 'status'], registers });
    this.#errors = new Counter({ name: 'skyscale_invocation_errors_total', help: 'Invocation attempts that did not succeed, by status and error reason', labelNames: ['function', 'function_id', 'mode', 'status', 'reason'], registers });
    this.#coldStarts = new Counter({ name: 'skyscale_cold_starts_total', help: 'Invocations that had to specialise or start an instance', labelNames: ['function', 'function_id', 'runtime'], registers });
    this.#duration = new Histogram({ name: 'skyscale_invocation_duration_seconds', help: 'Invocation duration as recorded in the execution (placement + run)', labelNames: ['function', 'function_id', 'mode', 'start'], buckets: DURATION_BUCKETS, registers });
    this.#rejections = new Counter({ name: 'skyscale_invocations_rejected_total', help: 'Invocations refused before running (429: the wait queue was full)', labelNames: ['function', 'function_id', 'mode', 'reason'], registers });
    this.#deadLettered = new Counter({ name: 'skyscale_dead_lettered_total', help: 'Async executions dead-lettered after their last attempt', labelNames: ['function', 'function_id'], registers });
    this.#requests = new Counter({ name: 'skyscale_http_requests_total', help: 'HTTP requests by plane and route pattern (gateway routes)', labelNames: ['plane', 'route', 'method', 'status'], registers });
    this.#requestDuration = new Histogram({ name: 'skyscale_http_request_duration_seconds', help: 'HTTP request duration by plane and route pattern', labelNames: ['plane', 'route', 'method'], buckets: DURATION_BUCKETS, registers });
    registerStateGauges(registers, sources);
  }

  invocation(s: InvocationSample): void {
    let fn = this.#functions.get(s.functionId);
    if (fn === undefined || fn.name !== s.functionName || fn.runtime !== s.runtime) {
      fn = { name: s.functionName, runtime: s.runtime, series: new Map() };
      this.#functions.set(s.functionId, fn);
    }
    const key = s.status === 'succeeded' ? (s.coldStart ? `${s.mode}+` : s.mode) : `${s.mode}\0${s.status}\0${s.errorReason}\0${s.coldStart}`;
    let series = fn.series.get(key);
    if (series === undefined) fn.series.set(key, (series = this.#seriesFor(s.functionId, s)));
    series.invocations.inc();
    series.errors?.inc();
    series.coldStarts?.inc();
    series.duration.observe(s.durationMs / 1000);
  }

  /** The labelled children one kind of invocation sample updates, resolved once per kind. */
  #seriesFor(functionId: string, s: InvocationSample): InvocationSeries {
    const base = { function: s.functionName, function_id: functionId };
    return {
      invocations: this.#invocations.labels({ ...base, runtime: s.runtime, mode: s.mode, status: s.status }),
      errors: s.status === 'succeeded' ? undefined : this.#errors.labels({ ...base, mode: s.mode, status: s.status, reason: s.errorReason ?? 'unknown' }),
      coldStarts: s.coldStart ? this.#coldStarts.labels({ ...base, runtime: s.runtime }) : undefined,
      duration: this.#duration.labels({ ...base, mode: s.mode, start: s.coldStart ? 'cold' : 'warm' }),
    };
  }

  rejection(s: RejectionSample): void {
    this.#inc(`r\0${s.functionId}\0${s.functionName}\0${s.mode}\0${s.reason}`, () => this.#rejections.labels({ function: s.functionName, function_id: s.functionId, mode: s.mode, reason: s.reason }));
  }

  deadLettered(s: { functionId: string; functionName: string }): void {
    this.#inc(`d\0${s.functionId}\0${s.functionName}`, () => this.#deadLettered.labels({ function: s.functionName, function_id: s.functionId }));
  }

  request(s: RequestSample): void {
    const status = String(s.statusCode);
    this.#inc(`q\0${s.plane}\0${s.route}\0${s.method}\0${status}`, () => this.#requests.labels({ plane: s.plane, route: s.route, method: s.method, status }));
    this.#observe(`h\0${s.plane}\0${s.route}\0${s.method}`, s.durationMs / 1000, () => this.#requestDuration.labels({ plane: s.plane, route: s.route, method: s.method }));
  }

  /** The text exposition format (version 0.0.4). */
  async exposition(): Promise<{ contentType: string; body: string }> {
    // The client prints NaN as "Nan"; Prometheus parses it (Go's ParseFloat ignores case), strict parsers don't.
    return { contentType: this.registry.contentType, body: (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN') };
  }

  #inc(key: string, make: () => Inc): void {
    let child = this.#children.get(key) as Inc | undefined;
    if (child === undefined) this.#children.set(key, (child = make()));
    child.inc();
  }

  #observe(key: string, value: number, make: () => Observe): void {
    let child = this.#children.get(key) as Observe | undefined;
    if (child === undefined) this.#children.set(key, (child = make()));
    child.observe(value);
  }
}

/** Gauges computed at scrape time from live state: nothing is maintained on the hot path for them. */
function registerStateGauges(registers: Registry[], sources: MetricsSources): void {
  new Gauge({
    name: 'skyscale_instances', help: 'Function instances by state', labelNames: ['function', 'function_id', 'runtime', 'state'], registers,
    collect() {
      this.reset();
      for (const i of sources.instances()) this.inc({ function: i.functionName, function_id: i.functionId, runtime: i.runtime, state: i.state });
    },
  });
  new Gauge({
    name: 'skyscale_invocations_in_flight', help: 'Invocations running on function instances now', labelNames: ['function', 'function_id'], registers,
    collect() {
      this.reset();
      for (const i of sources.instances()) this.inc({ function: i.functionName, function_id: i.functionId }, i.inFlight);
    },
  });
  new Gauge({
    name: 'skyscale_instance_load_score', help: 'Smoothed load score of each function instance (0..1, see docs/metrics.md)', labelNames: ['function', 'function_id', 'instance'], registers,
    collect() {
      this.reset();
      for (const i of sources.instances()) this.set({ function: i.functionName, function_id: i.functionId, instance: i.id }, i.score);
    },
  });
  new Gauge({
    name: 'skyscale_stem_cells', help: 'Pre-started generic instances by runtime and state', labelNames: ['runtime', 'state'], registers,
    collect() {
      this.reset();
      for (const s of sources.stemCells()) this.inc({ runtime: s.runtime, state: s.state });
    },
  });
  new Gauge({
    name: 'skyscale_queue_waiters', help: 'Sync invocations waiting for a free instance, per function', labelNames: ['function', 'function_id'], registers,
    collect() {
      this.reset();
      for (const w of sources.waiting()) if (w.waiters > 0) this.inc({ function: w.functionName, function_id: w.functionId }, w.waiters);
    },
  });
  new Gauge({
    name: 'skyscale_async_queued', help: 'Async executions queued (committed, not yet leased or waiting for a retry)', registers,
    async collect() {
      this.set(await sources.asyncQueued());
    },
  });
  new Gauge({
    name: 'skyscale_worker_utilisation', help: 'Smoothed utilisation of this worker process and its instances (0..1)', labelNames: ['resource'], registers,
    collect() {
      this.reset();
      const u = sources.worker().utilisation;
      if (u !== null) for (const resource of ['cpu', 'memory', 'io'] as const) this.set({ resource }, u[resource]);
    },
  });
  new Gauge({
    name: 'skyscale_worker_load_score', help: 'Load score of this worker process (0..1)', registers,
    collect() {
      this.set(sources.worker().score);
    },
  });
  new Counter({
    name: 'skyscale_load_sampler_ticks_total', help: 'Load sampling rounds (one timer for all instances)', registers,
    collect() {
      this.reset();
      this.inc(sources.sampler().ticks);
    },
  });
  new Counter({
    name: 'skyscale_load_sampler_seconds_total', help: 'Time spent sampling instance load', registers,
    collect() {
      this.reset();
      this.inc(sources.sampler().totalMs / 1000);
    },
  });
}
