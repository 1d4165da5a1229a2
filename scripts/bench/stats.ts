export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The p-th percentile (0–100) by nearest rank of values already sorted ascending. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Several percentiles (0–100) by nearest rank, sorting once: a round holds up to 150,000 latencies. */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  // A typed array sorts numerically by default, and without boxing.
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => percentileOfSorted(sorted, p));
}

/** The largest value by a loop: spreading 150,000 values into Math.max overflows the stack. */
export function largest(values: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < values.length; index += 1) if (values[index]! > max) max = values[index]!;
  return max;
}

/**
 * The least-squares slope of y over x, skipping points whose y is null or not finite (a scrape
 * that failed); NaN with fewer than two points or all at one x.
 */
export function slope(points: ReadonlyArray<readonly [number, number | null]>): number {
  const kept = points.filter((point): point is readonly [number, number] => point[1] !== null && Number.isFinite(point[1]));
  if (kept.length < 2) return Number.NaN;
  const meanX = kept.reduce((sum, [x]) => sum + x, 0) / kept.length;
  const meanY = kept.reduce((sum, [, y]) => sum + y, 0) / kept.length;
  let covariance = 0;
  let variance = 0;
  for (const [x, y] of kept) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return variance === 0 ? Number.NaN : covariance / variance;
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
