import { cpus, totalmem } from 'node:os';
import { chooseServices } from '../harness/choose-services';
import { integerEnv } from './bench-env';
import { e2eBench } from './e2e-bench';
import { processorBench } from './processor-bench';
import { receiverBench } from './receiver-bench';
import { median, round } from './stats';

/**
 * `npm run bench`: receiver, processor and end-to-end figures, each a median of several rounds
 * and each against a baseline measured in the same run (these machines are shared and noisy).
 * The last line of output is one JSON object with every figure.
 */
async function main(): Promise<void> {
  const rounds = integerEnv('BENCH_ROUNDS', 3);
  const seconds = integerEnv('BENCH_SECONDS', 10);
  const connections = integerEnv('BENCH_CONNECTIONS', 64);
  const events = integerEnv('BENCH_EVENTS', 50_000);
  const rate = integerEnv('BENCH_E2E_RATE', 1000);
  const e2eSeconds = integerEnv('BENCH_E2E_SECONDS', 30);
  const e2eRounds = integerEnv('BENCH_E2E_ROUNDS', rounds);
  const basePort = integerEnv('BENCH_BASE_PORT', 18_400);

  const services = await chooseServices();
  try {
    console.error(`Services: ${services.how}`);
    console.error(`Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}`);
    console.error(`Receiver: ${rounds} rounds of ${seconds} s at ${connections} connections`);
    const receiver = await receiverBench({ services, rounds, seconds, connections, port: basePort });
    console.error(`Processor: ${rounds} rounds of ${events} events`);
    const processor = await processorBench({ services, rounds, events, port: basePort + 1 });
    console.error(`End to end: ${e2eRounds} rounds of ${rate}/s for ${e2eSeconds} s`);
    const e2e = await e2eBench({ services, rounds: e2eRounds, rate, seconds: e2eSeconds, receiverPort: basePort + 2, processorPort: basePort + 3 });

    const receiverRps = median(receiver.rounds.map((r) => r.receiver.rps));
    const bareRps = median(receiver.rounds.map((r) => r.bare.rps));
    const processorEps = median(processor.rounds.map((r) => r.processorEps));
    const consumeOnly = median(processor.rounds.map((r) => r.consumeOnlyEps));
    const applyOnly = median(processor.rounds.map((r) => r.applyOnlyEps));
    const figures = {
      receiver_rps: round(receiverRps),
      receiver_p50_ms: median(receiver.rounds.map((r) => r.receiver.p50Ms)),
      receiver_p99_ms: median(receiver.rounds.map((r) => r.receiver.p99Ms)),
      receiver_errors: receiver.rounds.reduce((sum, r) => sum + r.receiver.errors, 0),
      bare_http_rps: round(bareRps),
      receiver_ratio: round(median(receiver.rounds.map((r) => r.receiver.rps / r.bare.rps)), 3),
      kafka_direct_msgs: round(median(receiver.rounds.map((r) => r.kafkaDirectMsgs))),
      processor_eps: round(processorEps),
      consume_only_eps: round(consumeOnly),
      apply_only_eps: round(applyOnly),
      processor_ratio: round(median(processor.rounds.map((r) => r.processorEps / Math.min(r.consumeOnlyEps, r.applyOnlyEps))), 3),
      e2e_rate: rate,
      e2e_p50_ms: round(median(e2e.rounds.map((r) => r.p50Ms)), 1),
      e2e_p99_ms: round(median(e2e.rounds.map((r) => r.p99Ms)), 1),
      e2e_max_ms: round(Math.max(...e2e.rounds.map((r) => r.maxMs)), 1),
      e2e_sent: e2e.rounds.reduce((sum, r) => sum + r.sent, 0),
      e2e_accepted: e2e.rounds.reduce((sum, r) => sum + r.accepted, 0),
      e2e_received: e2e.rounds.reduce((sum, r) => sum + r.received, 0),
      e2e_missing: e2e.rounds.reduce((sum, r) => sum + r.missing, 0),
      e2e_missing_accepted: e2e.rounds.reduce((sum, r) => sum + r.missingAccepted, 0),
      receiver_peak_rss_mib: Math.max(receiver.peakRssMiB, e2e.peakRssMiB.receiver),
      processor_peak_rss_mib: Math.max(processor.peakRssMiB, e2e.peakRssMiB.processor),
      rounds,
    };

    const rows: Array<[string, string, string]> = [
      ['receiver accepted req/s (202)', String(figures.receiver_rps), `bare node:http ${figures.bare_http_rps} req/s → ratio ${figures.receiver_ratio} (target ≥ 0.5, ≥ 5,000 req/s)`],
      ['receiver latency p50 / p99', `${figures.receiver_p50_ms} / ${figures.receiver_p99_ms} ms`, `${connections} connections, ${figures.receiver_errors} errors`],
      ['kafkajs sendBatch direct', `${figures.kafka_direct_msgs} msg/s`, 'the Kafka-side limit for the same events'],
      ['processor events/s', String(figures.processor_eps), `consume only ${figures.consume_only_eps}/s, apply only ${figures.apply_only_eps}/s → ratio ${figures.processor_ratio} (target ≥ 0.7, ≥ 3,000/s)`],
      ['end to end p50 / p99 / max', `${figures.e2e_p50_ms} / ${figures.e2e_p99_ms} / ${figures.e2e_max_ms} ms`, `${rate}/s offered, ${figures.e2e_accepted} accepted, ${figures.e2e_received} notifications, ${figures.e2e_missing} never notified (${figures.e2e_missing_accepted} of them accepted; target p99 ≤ 100 ms)`],
      ['peak RSS receiver / processor', `${figures.receiver_peak_rss_mib} / ${figures.processor_peak_rss_mib} MiB`, ''],
    ];
    const width = Math.max(...rows.map((row) => row[0].length));
    const valueWidth = Math.max(...rows.map((row) => row[1].length));
    console.log(`\n${'figure'.padEnd(width)}  ${'median'.padEnd(valueWidth)}  baseline and notes`);
    for (const [name, value, note] of rows) console.log(`${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${note}`);
    console.log(JSON.stringify(figures));
  } finally {
    await services.stop();
  }
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(`bench: ${error.stack ?? error.message}`);
  process.exit(1);
});
