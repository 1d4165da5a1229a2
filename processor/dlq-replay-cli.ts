import { parseArgs } from 'node:util';
import { reachKafka } from '../platform/connection-diagnosis';
import { connectionFailure, ConnectionProblem } from '../platform/connection-failures';
import { createKafka } from '../platform/kafka';
import { createLogger } from '../platform/logger';
import { readProcessorConfig } from './config';
import { replayDeadLetters } from './dlq-replay';
import { dropKafkajsNegativeTimeoutWarning } from '../platform/node-warnings';

dropKafkajsNegativeTimeoutWarning();

const USAGE = `Usage: npm run dlq:replay -- [--event-id ID ...] [--since TIME] [--all] [--dry-run]

Re-publishes dead-lettered events from DLQ_TOPIC (default webhook-events.dlq) to webhook-events,
after the cause was fixed (e.g. the missing trade was created). Name events with --event-id
(repeatable), or take --all; --since (ISO-8601) keeps those dead-lettered since then;
--dry-run lists what would be replayed.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'event-id': { type: 'string', multiple: true },
      since: { type: 'string' },
      all: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || (!values.all && !values['event-id']?.length)) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const since = values.since ? new Date(values.since) : undefined;
  if (since && Number.isNaN(since.getTime())) {
    console.error(`--since must be a time, e.g. 2026-01-31T12:00:00Z\n${USAGE}`);
    return 2;
  }
  const config = readProcessorConfig();
  // One quiet attempt first: a refused certificate or password fails here at once, with its
  // cause; a broker that is merely away is left to the client's own retries, as before.
  await reachKafka(config.kafka).catch((error: unknown) => {
    if (connectionFailure(error)) throw error;
  });
  const kafka = createKafka({ clientId: 'dlq-replay', logger: createLogger({ level: 'warn', name: 'dlq-replay' }), ...config.kafka });
  const result = await replayDeadLetters({
    kafka,
    deadLetterTopic: config.deadLetterTopic,
    eventsTopic: config.webhookEventsTopic,
    filter: { eventIds: values['event-id'], all: values.all, since },
    dryRun: values['dry-run'],
  });
  for (const event of result.matched) console.log(`${event.eventId}  ${event.reason}  dead-lettered ${event.failedAt}`);
  console.log(
    values['dry-run']
      ? `${result.matched.length} dead-lettered event(s) would be replayed to ${config.webhookEventsTopic} (dry run).`
      : `Replayed ${result.replayed} event(s) to ${config.webhookEventsTopic}.`,
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    const failure = error instanceof ConnectionProblem ? undefined : connectionFailure(error);
    console.error(`dlq:replay: ${failure ? `${failure.reason} (${error.message})` : error.message}`);
    process.exitCode = 1;
  },
);
