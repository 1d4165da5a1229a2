import { cpus, totalmem } from 'node:os';
import { chooseServices } from '../harness/choose-services';
import { benchParts, integerEnv } from './bench-env';
import { e2eBench } from './e2e-bench';
import { benchFigures, type BenchResults } from './figures';
import { processorBench } from './processor-bench';
import { receiverBench } from './receiver-bench';
import { formatTable, tableRows } from './report-table';
import { resultsDirectory, writeResults } from './results-files';

/**
 * `npm run bench`: receiver, processor and end-to-end figures, each a median of several rounds
 * and each against a baseline measured in the same run (these machines are shared and noisy):
 * the receiver against bare node:http, the processor against consuming only and applying only,
 * each end-to-end round against a pipe floor of the same two Kafka hops run just before it.
 * BENCH_ONLY (receiver, processor, e2e, comma-separated) runs some of the parts. The per-second
 * series, the summary and a chart per end-to-end round go to bench-results/<timestamp>/; the
 * last line of output is one JSON object with every figure.
 */
async function main(): Promise<void> {
  const parts = benchParts(process.env.BENCH_ONLY);
  const rounds = integerEnv('BENCH_ROUNDS', 3);
  const seconds = integerEnv('BENCH_SECONDS', 10);
  const connections = integerEnv('BENCH_CONNECTIONS', 64);
  const events = integerEnv('BENCH_EVENTS', 50_000);
  const rate = integerEnv('BENCH_E2E_RATE', 1000);
  const e2eSeconds = integerEnv('BENCH_E2E_SECONDS', 60);
  const e2eRounds = integerEnv('BENCH_E2E_ROUNDS', rounds);
  const basePort = integerEnv('BENCH_BASE_PORT', 18_400);

  const services = await chooseServices();
  try {
    console.error(`Services: ${services.how}`);
    console.error(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}`);
    const results: BenchResults = { settings: { rounds, connections, rate, e2eSeconds } };
    if (parts.has('receiver')) {
      console.error(`Receiver: ${rounds} rounds of ${seconds} s at ${connections} connections`);
      results.receiver = await receiverBench({ services, rounds, seconds, connections, port: basePort });
    }
    if (parts.has('processor')) {
      console.error(`Processor: ${rounds} rounds of ${events} events`);
      results.processor = await processorBench({ services, rounds, events, port: basePort + 1 });
    }
    if (parts.has('e2e')) {
      console.error(`End to end: ${e2eRounds} rounds of a pipe floor then the services, ${rate}/s for ${e2eSeconds} s each`);
      results.e2e = await e2eBench({ services, rounds: e2eRounds, rate, seconds: e2eSeconds, receiverPort: basePort + 2, processorPort: basePort + 3 });
    }
    const figures = benchFigures(results);
    const directory = resultsDirectory();
    const written = writeResults(directory, figures, results);
    console.error(`Results: ${written.join(', ')}`);
    console.log(`\n${formatTable(tableRows(figures))}`);
    console.log(JSON.stringify({ ...figures, results_dir: directory }));
  } finally {
    await services.stop();
  }
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(`bench: ${error.stack ?? error.message}`);
  process.exit(1);
});
