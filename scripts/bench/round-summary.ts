import type { Arrivals } from './arrivals';
import { perThousand, type CpuMs } from './cpu-usage';
import { driftRatio, perSecond, type SecondStats } from './series';
import { largest, percentiles } from './stats';

export interface RoundSummary {
  /** Percentiles over every measured event; one never delivered counts as never arriving (Infinity). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  sent: number;
  /** Answered 202 by the receiver (end to end), acknowledged by the broker (pipe floor). */
  accepted: number;
  received: number;
  /** Measured events with no arrival by the end of the round: accepted ones (lost or late) and refused ones. */
  missing: number;
  missingAccepted: number;
}

/**
 * A round's figures. An event never delivered stays in the percentiles as one that never
 * arrived (Infinity) rather than leaving them: a round that loses events must not report a
 * better p99 than one that delivers them all late.
 */
export function summarizeRound<Id>(options: {
  sent: number;
  accepted: ReadonlySet<Id>;
  latencies: readonly number[];
  /** The measured events whose arrival never came. */
  neverNotified: readonly Id[];
}): RoundSummary {
  const { latencies, neverNotified } = options;
  const measured = Float64Array.from({ length: latencies.length + neverNotified.length }, (_, index) => latencies[index] ?? Number.POSITIVE_INFINITY);
  const [p50Ms, p99Ms] = percentiles(measured, [50, 99]) as [number, number];
  return {
    p50Ms,
    p99Ms,
    maxMs: largest(measured),
    sent: options.sent,
    accepted: options.accepted.size,
    received: latencies.length,
    missing: neverNotified.length,
    missingAccepted: neverNotified.filter((id) => options.accepted.has(id)).length,
  };
}

/** A measured round at a scheduled rate: its figures, its seconds, and what it cost in CPU. */
export interface LatencyRound {
  summary: RoundSummary;
  series: SecondStats[];
  /** driftRatio of the per-second p50s. */
  drift: number;
  cpuMs: CpuMs;
  /** CPU ms per 1,000 events delivered all the way. */
  cpuPerThousand: CpuMs;
}

export function latencyRound(options: { arrivals: Arrivals; start: number; seconds: number; accepted: ReadonlySet<number>; cpuMs: CpuMs }): LatencyRound {
  const { arrivals, start, seconds, cpuMs } = options;
  const summary = summarizeRound({ sent: arrivals.due.length, accepted: options.accepted, latencies: arrivals.latencies(), neverNotified: arrivals.neverArrived() });
  const series = perSecond({ due: arrivals.due, arrived: arrivals.arrived, start, seconds });
  return { summary, series, drift: driftRatio(series.map((second) => second.p50Ms)), cpuMs, cpuPerThousand: perThousand(cpuMs, summary.received) };
}
