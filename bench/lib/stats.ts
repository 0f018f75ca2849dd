// Small statistics helpers: percentiles of latency samples and the median and spread of repeats.

/** The q-quantile (0..1) of ascending `sorted`, nearest-rank; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles of unsorted samples (sorted in place). */
export function percentiles(samples: Float64Array): Percentiles {
  samples.sort();
  return {
    p50: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    p99: quantile(samples, 0.99),
    p999: quantile(samples, 0.999),
    max: samples.length === 0 ? Number.NaN : (samples[samples.length - 1] as number),
  };
}

/** Median and spread of a few repeated measurements. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Interquartile range (Q1..Q3, linear interpolation); equals min..max for fewer than 4 values. */
  q1: number;
  q3: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const at = (q: number): number => {
    if (sorted.length === 0) return Number.NaN;
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    const a = sorted[low] as number;
    const b = sorted[high] as number;
    return a + (b - a) * (position - low);
  };
  const n = sorted.length;
  return {
    median: at(0.5),
    min: n === 0 ? Number.NaN : (sorted[0] as number),
    max: n === 0 ? Number.NaN : (sorted[n - 1] as number),
    q1: n < 4 ? (sorted[0] ?? Number.NaN) : at(0.25),
    q3: n < 4 ? (sorted[n - 1] ?? Number.NaN) : at(0.75),
    n,
  };
}

/** Relative half-width of the min–max range around the median, e.g. 0.05 for ±5 %. */
export function relativeSpread(s: Spread): number {
  return s.median === 0 ? 0 : (s.max - s.min) / 2 / Math.abs(s.median);
}
