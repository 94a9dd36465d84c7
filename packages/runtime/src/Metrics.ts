/**
 * A service's own Prometheus metrics, served on the admin listener's `/metrics` with the
 * runtime's (`holdfast_*`) and the process's (memory, CPU, file descriptors, event-loop lag, GC).
 * `start` receives it as `metrics`. Names must be valid Prometheus names and unique in the service.
 *
 * @example
 * ```ts
 * const dropped = metrics.counter({ name: 'relay_dropped_lines_total', help: 'Lines dropped', labelNames: ['reason'] });
 * dropped.labels({ reason: 'too-long' }).inc();
 * metrics.gauge({ name: 'relay_connections', help: 'Open ingest connections', collect: () => connections.size });
 * ```
 */
export interface Metrics {
  /**
   * A counter: it only goes up. Increment it, or give `collect` to read a running total at each
   * scrape (for totals an actor keeps: ask it); the counter moves by what the total grew.
   */
  counter(options: MetricOptions & { readonly collect?: () => CounterReading | Promise<CounterReading> }): CounterMetric;
  /**
   * A gauge: set it, or give `collect` to read it at each scrape: one value, or one per set of
   * labels, or a promise of either (for values an actor holds: ask it).
   */
  gauge(options: MetricOptions & { readonly collect?: () => GaugeReading | Promise<GaugeReading> }): GaugeMetric;
  /** A histogram of observed values (seconds, bytes, …) in `buckets`. */
  histogram(options: MetricOptions & { readonly buckets?: readonly number[] }): HistogramMetric;
}

/** What every metric is declared with. */
export interface MetricOptions {
  readonly name: string;
  readonly help: string;
  /** The label names its values are split by (default: none). */
  readonly labelNames?: readonly string[];
}

/** What a counter's `collect` reads: its running total, or its totals by labels. */
export type CounterReading = number | ReadonlyArray<readonly [Labels, number]>;

/** What a gauge's `collect` reads: its value, or its values by labels. */
export type GaugeReading = number | ReadonlyArray<readonly [Labels, number]>;

/** Label values, by label name. */
export type Labels = Readonly<Record<string, string | number>>;

export interface CounterMetric {
  inc(by?: number): void;
  labels(labels: Labels): { inc(by?: number): void };
}

export interface GaugeMetric {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
  labels(labels: Labels): { set(value: number): void; inc(by?: number): void; dec(by?: number): void };
}

export interface HistogramMetric {
  observe(value: number): void;
  labels(labels: Labels): { observe(value: number): void };
}
