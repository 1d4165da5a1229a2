import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { E2eBenchRound, E2eRound } from './e2e-bench';
import type { BenchFigures, BenchResults } from './figures';
import type { LatencyRound } from './round-summary';
import { latencyChart } from './svg-plot';

/** bench-results/<timestamp>/ at the project's root (ignored by git). */
export function resultsDirectory(now = new Date()): string {
  return resolve(__dirname, '..', '..', 'bench-results', now.toISOString().replace(/[:.]/g, '-'));
}

/**
 * The per-second series of each round: the end-to-end seconds beside what the receiver's and
 * the processor's /metrics said in that second. JSON has no Infinity: a percentile that an
 * event never delivered reached is null there, and `missing` counts those events.
 */
function seriesDocument(rounds: readonly E2eBenchRound[]) {
  return rounds.map(({ pipeFloor, e2e }, index) => ({
    round: index + 1,
    pipe_floor: pipeFloor.series,
    e2e: e2e.series.map((second, at) => ({ ...second, receiver: e2e.processes.receiver[at] ?? null, processor: e2e.processes.processor[at] ?? null })),
  }));
}

function roundChart(round: number, { pipeFloor, e2e }: E2eBenchRound): string {
  return latencyChart({
    title: `End-to-end round ${round}: latency by second, pipe floor dashed`,
    series: [
      { name: 'end to end p50', values: e2e.series.map((second) => second.p50Ms), color: '#1f77b4' },
      { name: 'end to end p99', values: e2e.series.map((second) => second.p99Ms), color: '#d62728' },
      { name: 'pipe floor p50', values: pipeFloor.series.map((second) => second.p50Ms), color: '#1f77b4', dashed: true },
      { name: 'pipe floor p99', values: pipeFloor.series.map((second) => second.p99Ms), color: '#d62728', dashed: true },
    ],
  });
}

/** A round without its seconds, which series.json holds. */
function withoutSeconds({ series, ...summary }: LatencyRound) {
  return summary;
}

function e2eWithoutSeconds({ series, processes, ...summary }: E2eRound) {
  return summary;
}

/** The figures, and each round's own beside them. */
function summaryDocument(figures: BenchFigures, results: BenchResults) {
  return {
    figures,
    settings: results.settings,
    receiver_rounds: results.receiver?.rounds ?? null,
    processor_rounds: results.processor?.rounds ?? null,
    e2e_rounds:
      results.e2e?.rounds.map(({ pipeFloor, e2e }) => ({
        pipe_floor: withoutSeconds(pipeFloor),
        e2e: e2eWithoutSeconds(e2e),
      })) ?? null,
  };
}

/** summary.json, series.json and a chart per end-to-end round in `directory`; the files written. */
export function writeResults(directory: string, figures: BenchFigures, results: BenchResults): string[] {
  const e2eRounds = results.e2e?.rounds ?? [];
  mkdirSync(directory, { recursive: true });
  const files: Array<[string, string]> = [
    ['summary.json', JSON.stringify(summaryDocument(figures, results), null, 2)],
    ['series.json', JSON.stringify({ settings: results.settings, rounds: seriesDocument(e2eRounds) })],
    ...e2eRounds.map((round, index): [string, string] => [`e2e-round-${index + 1}.svg`, roundChart(index + 1, round)]),
  ];
  return files.map(([name, text]) => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  });
}
