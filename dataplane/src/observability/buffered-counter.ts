import { Counter, type Registry } from 'prom-client';
import { LabelSets } from './label-sets.ts';

/** One label set of a BufferedCounter. */
export class CounterSeries {
  readonly #labels: Record<string, string>;
  #pending = 0;
  #touched = false;

  constructor(labels: Record<string, string>) {
    this.#labels = labels;
  }

  inc(by = 1): void {
    if (!(by >= 0 && Number.isFinite(by))) throw new TypeError(`counter increment must be ≥ 0: ${by}`);
    this.#pending += by;
    this.#touched = true;
  }

  /** Hands what was counted since the last flush to the prom-client counter. */
  flushInto(counter: Counter<string>): void {
    if (!this.#touched) return;
    counter.inc(this.#labels, this.#pending);
    this.#pending = 0;
    this.#touched = false;
  }
}

/**
 * A prom-client Counter whose hot path skips prom-client: `labels(...)` finds the series by its
 * label values, and `inc` adds to a plain number. prom-client re-validates and re-hashes the
 * label object on every `inc`; here that happens once per series and scrape, when the counts are
 * handed over (the counter's `collect`, run before every read of the registry).
 */
export class BufferedCounter<L extends string> {
  readonly #series: LabelSets<CounterSeries>;

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
    const series = new LabelSets(config.labelNames, (labels) => new CounterSeries(labels));
    this.#series = series;
    new Counter<L>({
      ...config,
      collect() {
        for (const each of series.all()) each.flushInto(this);
      },
    });
  }

  /** The series of these label values, given in the order of `labelNames`. */
  labels(...values: string[]): CounterSeries {
    return this.#series.get(values);
  }
}
