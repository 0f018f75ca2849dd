import type { Metric, MetricValueWithName, Registry } from 'prom-client';
import { LabelSets } from './label-sets.ts';

type Sample = MetricValueWithName<string> & { exemplar: null | undefined };

/** What prom-client's Histogram answers to `get()`, and what its Registry renders. */
export interface HistogramSnapshot {
  name: string;
  help: string;
  type: 'histogram';
  values: Sample[];
  aggregator: 'sum';
}

/** One label set of a LabelledHistogram: counts per bucket (not cumulative), sum and count. */
export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly #upperBounds: readonly number[];
  /** One slot per upper bound, and a last one for values above them all (+Inf). */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(labels: Record<string, string>, upperBounds: readonly number[]) {
    this.labels = labels;
    this.#upperBounds = upperBounds;
    this.#counts = new Float64Array(upperBounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`histogram value must be finite: ${value}`);
    const bounds = this.#upperBounds;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket += 1;
    this.#counts[bucket] = (this.#counts[bucket] as number) + 1;
    this.#sum += value;
    this.#count += 1;
  }

  /** prom-client's samples for this label set, field for field: cumulative buckets, +Inf, _sum, _count. */
  samples(name: string): Sample[] {
    const bucket = `${name}_bucket`;
    const samples: Sample[] = [];
    let cumulative = 0;
    this.#upperBounds.forEach((le, index) => {
      cumulative += this.#counts[index] as number;
      samples.push({ value: cumulative, metricName: bucket, exemplar: null, labels: { le, ...this.labels } });
    });
    samples.push(
      { value: this.#count, metricName: bucket, exemplar: null, labels: { le: '+Inf', ...this.labels } },
      { value: this.#sum, metricName: `${name}_sum`, exemplar: undefined, labels: { ...this.labels } },
      { value: this.#count, metricName: `${name}_count`, exemplar: undefined, labels: { ...this.labels } },
    );
    return samples;
  }
}

/**
 * A Prometheus histogram with the samples of prom-client's Histogram, registered on a prom-client
 * Registry like one, but whose label sets are resolved once: `labels(...)` finds the series by its
 * label values and `observe` is a bucket search and three additions. prom-client's Histogram
 * re-validates and re-hashes the label object on every observation, and has no way to add counts
 * kept elsewhere.
 */
export class LabelledHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: LabelSets<HistogramSeries>;

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registers: Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    const upperBounds = [...config.buckets].sort((a, b) => a - b);
    this.#series = new LabelSets(config.labelNames, (labels) => new HistogramSeries(labels, upperBounds));
    // The registry only reads name, help, type, aggregator and get(), and calls reset().
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, given in the order of `labelNames`. */
  labels(...values: string[]): HistogramSeries {
    return this.#series.get(values);
  }

  get(): Promise<HistogramSnapshot> {
    const values = this.#series.all().flatMap((series) => series.samples(this.name));
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  reset(): void {
    this.#series.clear();
  }
}
