import { medianCpu, type CpuMs } from './cpu-usage';
import type { E2eBenchRound } from './e2e-bench';
import type { ProcessorRound } from './processor-bench';
import type { ReceiverRound } from './receiver-bench';
import { largest, median, round } from './stats';

/** What each part of a run measured; a part left out by BENCH_ONLY is undefined. */
export interface BenchResults {
  receiver?: { rounds: ReceiverRound[]; peakRssMiB: number };
  processor?: { rounds: ProcessorRound[]; peakRssMiB: number };
  e2e?: { rounds: E2eBenchRound[]; peakRssMiB: { receiver: number; processor: number } };
  settings: { rounds: number; connections: number; rate: number; e2eSeconds: number };
}

/** The median over rounds of `pick`, rounded; null when the part did not run. */
function medianOf<T>(rounds: readonly T[] | undefined, pick: (round: T) => number, digits = 0): number | null {
  return rounds ? round(median(rounds.map(pick)), digits) : null;
}

function sumOf<T>(rounds: readonly T[] | undefined, pick: (round: T) => number): number | null {
  return rounds ? rounds.reduce((sum, entry) => sum + pick(entry), 0) : null;
}

/** Every figure of a run, flat, each a median over rounds unless named a sum or a maximum: the final JSON line. */
export function benchFigures(results: BenchResults) {
  const receiver = results.receiver?.rounds;
  const processor = results.processor?.rounds;
  const e2e = results.e2e?.rounds.map((entry) => entry.e2e);
  const pipe = results.e2e?.rounds.map((entry) => entry.pipeFloor);
  const cpu = (rounds: ReadonlyArray<{ cpuPerThousand: CpuMs }> | undefined): CpuMs | null => (rounds ? medianCpu(rounds.map((entry) => entry.cpuPerThousand)) : null);
  return {
    receiver_rps: medianOf(receiver, (r) => r.receiver.rps),
    receiver_p50_ms: medianOf(receiver, (r) => r.receiver.p50Ms, 1),
    receiver_p99_ms: medianOf(receiver, (r) => r.receiver.p99Ms, 1),
    receiver_errors: sumOf(receiver, (r) => r.receiver.errors),
    bare_http_rps: medianOf(receiver, (r) => r.bare.rps),
    receiver_ratio: medianOf(receiver, (r) => r.receiver.rps / r.bare.rps, 3),
    kafka_direct_msgs: medianOf(receiver, (r) => r.kafkaDirectMsgs),
    processor_eps: medianOf(processor, (r) => r.processorEps),
    consume_only_eps: medianOf(processor, (r) => r.consumeOnlyEps),
    apply_only_eps: medianOf(processor, (r) => r.applyOnlyEps),
    processor_ratio: medianOf(processor, (r) => r.processorEps / Math.min(r.consumeOnlyEps, r.applyOnlyEps), 3),
    e2e_rate: results.settings.rate,
    e2e_seconds: results.settings.e2eSeconds,
    e2e_p50_ms: medianOf(e2e, (r) => r.summary.p50Ms, 1),
    e2e_p99_ms: medianOf(e2e, (r) => r.summary.p99Ms, 1),
    e2e_max_ms: e2e ? round(largest(e2e.map((r) => r.summary.maxMs)), 1) : null,
    e2e_sent: sumOf(e2e, (r) => r.summary.sent),
    e2e_accepted: sumOf(e2e, (r) => r.summary.accepted),
    e2e_received: sumOf(e2e, (r) => r.summary.received),
    e2e_missing: sumOf(e2e, (r) => r.summary.missing),
    e2e_missing_accepted: sumOf(e2e, (r) => r.summary.missingAccepted),
    pipe_p50_ms: medianOf(pipe, (r) => r.summary.p50Ms, 1),
    pipe_p99_ms: medianOf(pipe, (r) => r.summary.p99Ms, 1),
    pipe_max_ms: pipe ? round(largest(pipe.map((r) => r.summary.maxMs)), 1) : null,
    pipe_missing: sumOf(pipe, (r) => r.summary.missing),
    e2e_pipe_p99_ratio: medianOf(results.e2e?.rounds, (r) => r.e2e.summary.p99Ms / r.pipeFloor.summary.p99Ms, 2),
    e2e_drift: medianOf(e2e, (r) => r.drift, 2),
    pipe_drift: medianOf(pipe, (r) => r.drift, 2),
    receiver_rss_mib_per_min: medianOf(e2e, (r) => r.trends.receiver.rssMiBPerMinute, 2),
    processor_rss_mib_per_min: medianOf(e2e, (r) => r.trends.processor.rssMiBPerMinute, 2),
    receiver_loop_delay_ms_per_min: medianOf(e2e, (r) => r.trends.receiver.loopDelayMsPerMinute, 2),
    processor_loop_delay_ms_per_min: medianOf(e2e, (r) => r.trends.processor.loopDelayMsPerMinute, 2),
    cpu_ms_per_1000: { receiver_rounds: cpu(receiver), processor_rounds: cpu(processor), e2e_rounds: cpu(e2e), pipe_floor: cpu(pipe) },
    receiver_peak_rss_mib: results.receiver || results.e2e ? Math.max(results.receiver?.peakRssMiB ?? 0, results.e2e?.peakRssMiB.receiver ?? 0) : null,
    processor_peak_rss_mib: results.processor || results.e2e ? Math.max(results.processor?.peakRssMiB ?? 0, results.e2e?.peakRssMiB.processor ?? 0) : null,
    rounds: results.settings.rounds,
    connections: results.settings.connections,
  };
}

export type BenchFigures = ReturnType<typeof benchFigures>;
