import { median, percentileOfSorted } from './stats';

/** One second of a round, by the events scheduled in it. */
export interface SecondStats {
  second: number;
  /** Latency percentiles, an event never delivered counting as one that never arrived (Infinity). */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Events scheduled in this second that arrived. */
  count: number;
  /** Events scheduled in this second that never arrived. */
  missing: number;
}

/**
 * Per-second figures of a round: event i was due at `due[i]` and arrived at `arrived[i]` (NaN:
 * never), both on the performance.now() clock; second k holds the events due in
 * [start + k s, start + (k + 1) s). Events not scheduled (NaN due) are left out.
 */
export function perSecond(options: { due: Float64Array; arrived: Float64Array; start: number; seconds: number }): SecondStats[] {
  const { due, arrived, start, seconds } = options;
  const buckets: number[][] = Array.from({ length: seconds }, () => []);
  for (let index = 0; index < due.length; index += 1) {
    const second = Math.floor((due[index]! - start) / 1000);
    const latency = Number.isNaN(arrived[index]!) ? Number.POSITIVE_INFINITY : arrived[index]! - due[index]!;
    buckets[second]?.push(latency);
  }
  return buckets.map((latencies, second) => {
    const sorted = Float64Array.from(latencies).sort();
    const missing = latencies.filter((latency) => latency === Number.POSITIVE_INFINITY).length;
    return {
      second,
      p50Ms: percentileOfSorted(sorted, 50),
      p90Ms: percentileOfSorted(sorted, 90),
      p99Ms: percentileOfSorted(sorted, 99),
      maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
      count: latencies.length - missing,
      missing,
    };
  });
}

/**
 * Drift over a round: the median of the per-second p50s of its last 10 seconds over that of its
 * first 10. A round shorter than 20 s compares its halves, so the two never share a second.
 */
export function driftRatio(perSecondP50: readonly number[]): number {
  const span = Math.min(10, Math.floor(perSecondP50.length / 2));
  if (span === 0) return Number.NaN;
  return median(perSecondP50.slice(-span)) / median(perSecondP50.slice(0, span));
}
