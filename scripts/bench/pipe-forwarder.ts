import { Partitioners } from 'kafkajs';
import { createKafka } from '../../platform/kafka';
import { createLogger } from '../../platform/logger';

/**
 * The pipe floor's middle hop, in a process of its own as the processor is: consumes
 * PIPE_FROM_TOPIC as the processor consumes (its own group PIPE_GROUP, maxWaitTimeInMs 100, the
 * six partitions side by side) and sends each batch's records on to PIPE_TO_TOPIC at once,
 * acks -1, from one idempotent producer. Prints "joined" once in the group.
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: 'warn', name: 'bench-pipe-forwarder' });
  const kafka = createKafka({ clientId: 'bench-pipe-forwarder', brokers: process.env.KAFKA_BROKERS!.split(','), logger });
  const to = process.env.PIPE_TO_TOPIC!;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: process.env.PIPE_GROUP!, maxWaitTimeInMs: 100 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: process.env.PIPE_FROM_TOPIC!, fromBeginning: true });
  consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined\n'));
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      const messages = batch.messages.map(({ key, value, headers }) => ({ key, value, headers }));
      await producer.send({ topic: to, acks: -1, messages });
    },
  });
  process.once('SIGTERM', () => {
    void Promise.all([consumer.disconnect(), producer.disconnect()]).finally(() => process.exit(0));
  });
}

main().catch((error: Error) => {
  console.error(`pipe forwarder: ${error.stack ?? error.message}`);
  process.exit(1);
});
