import type { CpuMs } from './cpu-usage';
import type { BenchFigures } from './figures';

/** A figure against its target: name, value, target, and whether it is met ('—' without a target or a value). */
export type TableRow = readonly [string, string, string, string];

/** Whether `value` meets a bound; '—' when it was not measured. */
export function verdict(value: number | null, bound: { atMost?: number; atLeast?: number }): string {
  if (value === null || Number.isNaN(value)) return '—';
  const met = (bound.atMost === undefined || value <= bound.atMost) && (bound.atLeast === undefined || value >= bound.atLeast);
  return met ? 'yes' : 'NO';
}

function show(value: number | null, unit = ''): string {
  return value === null || Number.isNaN(value) ? '—' : `${value}${unit}`;
}

function cpuLine(cpu: CpuMs | null): string {
  if (cpu === null) return '—';
  return Object.entries(cpu)
    .map(([role, ms]) => `${role} ${show(ms)}`)
    .join(' · ');
}

/** The table: each figure against its target, the figures it rests on beside it. */
export function tableRows(f: BenchFigures): TableRow[] {
  const rows: TableRow[] = [];
  if (f.e2e_p99_ms !== null) {
    rows.push(
      [`end-to-end p99 at ${f.e2e_rate}/s ÷ pipe-floor p99`, show(f.e2e_pipe_p99_ratio), '≤ 2', verdict(f.e2e_pipe_p99_ratio, { atMost: 2 })],
      ['  end-to-end p50 / p99 / max', `${f.e2e_p50_ms} / ${f.e2e_p99_ms} / ${show(f.e2e_max_ms)} ms`, 'stretch: p99 ≤ 100 ms', verdict(f.e2e_p99_ms, { atMost: 100 })],
      ['  pipe floor p50 / p99 / max', `${f.pipe_p50_ms} / ${f.pipe_p99_ms} / ${show(f.pipe_max_ms)} ms`, `${show(f.pipe_missing)} missing`, '—'],
      [
        '  end-to-end delivery',
        `${f.e2e_received} of ${f.e2e_sent}`,
        `${f.e2e_accepted} accepted; ${f.e2e_missing} never notified (${f.e2e_missing_accepted} of them accepted)`,
        verdict(f.e2e_missing, { atMost: 0 }),
      ],
      ['drift: p50 last 10 s ÷ first 10 s', show(f.e2e_drift), '≤ 1.5', verdict(f.e2e_drift, { atMost: 1.5 })],
      ['  pipe floor drift', show(f.pipe_drift), '', '—'],
      ['RSS growth receiver / processor', `${show(f.receiver_rss_mib_per_min)} / ${show(f.processor_rss_mib_per_min)} MiB/min`, 'least squares, per second', '—'],
      ['loop delay p99 growth receiver / processor', `${show(f.receiver_loop_delay_ms_per_min)} / ${show(f.processor_loop_delay_ms_per_min)} ms/min`, 'least squares, per second', '—'],
    );
  }
  if (f.processor_ratio !== null) {
    rows.push(
      ['processor ÷ min(consume only, apply only)', show(f.processor_ratio), '≥ 0.7', verdict(f.processor_ratio, { atLeast: 0.7 })],
      ['  processor / consume only / apply only', `${f.processor_eps} / ${f.consume_only_eps} / ${f.apply_only_eps} events/s`, '≥ 3,000/s', verdict(f.processor_eps, { atLeast: 3000 })],
    );
  }
  if (f.receiver_ratio !== null) {
    rows.push(
      ['receiver ÷ bare node:http', show(f.receiver_ratio), '≥ 0.5', verdict(f.receiver_ratio, { atLeast: 0.5 })],
      ['  receiver / bare node:http', `${f.receiver_rps} / ${f.bare_http_rps} req/s`, '≥ 5,000 req/s', verdict(f.receiver_rps, { atLeast: 5000 })],
      ['  receiver latency p50 / p99', `${f.receiver_p50_ms} / ${f.receiver_p99_ms} ms`, `${f.connections} connections, ${f.receiver_errors} errors`, '—'],
      ['  kafkajs sendBatch direct', `${f.kafka_direct_msgs} msg/s`, 'the Kafka-side limit', '—'],
    );
  }
  const cpu = f.cpu_ms_per_1000;
  rows.push(
    ['CPU ms / 1,000 webhooks: receiver rounds', cpuLine(cpu.receiver_rounds), 'broker, postgres: machine-wide', '—'],
    ['  processor rounds', cpuLine(cpu.processor_rounds), '', '—'],
    ['  end-to-end rounds', cpuLine(cpu.e2e_rounds), '', '—'],
    ['  pipe floor', cpuLine(cpu.pipe_floor), 'bench = producer + reader', '—'],
    ['peak RSS receiver / processor', `${show(f.receiver_peak_rss_mib)} / ${show(f.processor_peak_rss_mib)} MiB`, '', '—'],
  );
  return rows;
}

export function formatTable(rows: readonly TableRow[]): string {
  const header: TableRow = ['figure', 'median', 'target', 'met'];
  const widths = [0, 1, 2].map((column) => rows.reduce((widest, row) => Math.max(widest, row[column]!.length), header[column]!.length));
  return [header, ...rows].map((row) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  ')).join('\n');
}
