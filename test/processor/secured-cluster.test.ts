import { Kafka, logLevel } from 'kafkajs';
import type { Knex } from 'knex';
import { signPayload } from '../../schemas/signatures';
import { freePort } from '../../scripts/harness/free-port';
import type { KafkaCluster } from '../../scripts/harness/native/start-kafka-cluster';
import { uniqueName } from '../support/names';
import { ownCluster } from '../support/own-cluster';
import { insertTrade, migratedDatabase, systemEnv, type TestTopics } from '../support/processor';
import { receiverProcess, TEST_SECRETS } from '../support/receiver';
import { serviceProcess } from '../support/service-process';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

/**
 * The receiver and the processor as the processes they are in production, configured only
 * through the environment, end to end over a three-broker cluster that takes nothing but
 * SASL_SSL (SCRAM-SHA-512) on one listener and mutual TLS on the other.
 */
describe('end to end over a secured three-broker cluster', () => {
  let cluster: KafkaCluster;
  let db: Knex;
  let schema: string;
  beforeAll(async () => {
    cluster = await ownCluster({ brokers: 3, security: 'sasl_ssl' });
    ({ db, schema } = await migratedDatabase());
  }, 240_000);

  async function completesATradeOver(endpointEnv: Record<string, string>, client: ConstructorParameters<typeof Kafka>[0]): Promise<void> {
    const topics: TestTopics = { events: uniqueName('events'), notifications: uniqueName('notifications'), deadLetters: uniqueName('dlq'), group: uniqueName('processor') };
    const [port, processorPort] = [await freePort(), await freePort()];
    const env = { ...systemEnv({ schema, topics }), ...endpointEnv, TOPIC_PARTITIONS: '3' };
    const processor = serviceProcess('processor', { ...env, PROCESSOR_PORT: String(processorPort), PROCESSOR_HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, `http://127.0.0.1:${processorPort}/readyz`);
    const receiver = receiverProcess({ port, topic: topics.events, env });
    await processor.start();
    await receiver.start();

    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing', user_id: 4242 });
    const body = JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: `0xsecure${trade.id}` });
    const response = await fetch(`http://127.0.0.1:${port}/api/webhooks/buy-complete`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) },
    });
    expect(response.status).toBe(202);

    await waitFor('the trade completed', async () => (await db('trades').where({ id: trade.id, status: 'completed' }).first()) ?? undefined);
    const kafka = new Kafka({ ...client, clientId: 'secured-reader', logLevel: logLevel.NOTHING });
    const notifications = await readTopic(kafka, topics.notifications, { count: 1 });
    expect(notifications.map((message) => [message.key, message.value.trade_id, message.value.status])).toEqual([['4242', trade.id, 'completed']]);

    // The services created their topics to fit the cluster: three replicas, two in sync required.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [events] = (await admin.fetchTopicMetadata({ topics: [topics.events] })).topics;
      expect(events!.partitions.map((partition) => partition.replicas.length)).toEqual([3, 3, 3]);
      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topics.events, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
      expect(configs.resources[0]!.configEntries.find((entry) => entry.configName === 'min.insync.replicas')?.configValue).toBe('2');
    } finally {
      await admin.disconnect();
    }
    await receiver.stop();
    await processor.stop();
  }

  it('completes a trade over SASL_SSL with SCRAM-SHA-512, the password read from a file', async () => {
    expect(cluster.env).toEqual(expect.objectContaining({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD_FILE: expect.any(String) }));
    await completesATradeOver(cluster.env, { brokers: cluster.bootstrap, ...cluster.client });
  }, 180_000);

  it('completes a trade over mutual TLS with the client certificate', async () => {
    const mutual = cluster.mutualTls!;
    expect(mutual.env).toEqual(expect.objectContaining({ KAFKA_SSL_CERT_FILE: expect.any(String), KAFKA_SSL_KEY_FILE: expect.any(String) }));
    expect(mutual.env.KAFKA_SASL_MECHANISM).toBeUndefined();
    await completesATradeOver(mutual.env, { brokers: mutual.bootstrap, ...mutual.client });
  }, 180_000);
});
