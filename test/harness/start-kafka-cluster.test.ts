import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, KafkaJSSASLAuthenticationError, logLevel, type KafkaConfig } from 'kafkajs';
import { createTopicsWithLeaders } from '../../platform/topics';
import type { KafkaCluster } from '../../scripts/harness/native/start-kafka-cluster';
import { onCleanup } from '../support/cleanup';
import { ownCluster } from '../support/own-cluster';
import { uniqueName } from '../support/names';
import { readTopic } from '../support/topic-reader';

/** Connects with `config` alone (no retries) and asks for the cluster's brokers. */
async function describeWith(config: KafkaConfig): Promise<number[]> {
  const admin = new Kafka({ ...config, logLevel: logLevel.NOTHING, connectionTimeout: 5000, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.map((broker) => broker.nodeId);
  } finally {
    await admin.disconnect();
  }
}

describe('startKafkaCluster: one broker, sasl_ssl', () => {
  let cluster: KafkaCluster;

  beforeAll(async () => {
    cluster = await ownCluster({ brokers: 1, security: 'sasl_ssl' });
  }, 90_000);

  it('accepts a SCRAM-SHA-512 client that trusts the run\'s CA: a record written with acks=all is there to read', async () => {
    const kafka = new Kafka({ brokers: cluster.bootstrap, ...cluster.client, logLevel: logLevel.NOTHING });
    expect(cluster.client.sasl?.mechanism).toBe('scram-sha-512');
    const topic = uniqueName('secured');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await createTopicsWithLeaders(admin, [{ topic, partitions: 1 }]);
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: 'over SASL_SSL' }] });
      await producer.disconnect();
      const [partition] = await admin.fetchTopicOffsets(topic);
      expect(partition!.high).toBe('1');
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses the SCRAM user with a wrong password', async () => {
    const sasl = { mechanism: 'scram-sha-512' as const, username: 'trade-webhooks', password: 'not-the-password' };
    await expect(describeWith({ brokers: cluster.bootstrap, ssl: cluster.client.ssl, sasl })).rejects.toThrow(KafkaJSSASLAuthenticationError);
  });

  it('takes the same user over SCRAM-SHA-256', async () => {
    const sasl = { mechanism: 'scram-sha-256' as const, username: 'trade-webhooks', password: readFileSync(cluster.env.KAFKA_SASL_PASSWORD_FILE!, 'utf8') };
    await expect(describeWith({ brokers: cluster.bootstrap, ssl: cluster.client.ssl, sasl })).resolves.toEqual([1]);
  });

  it('refuses a client that does not trust the run\'s CA', async () => {
    await expect(describeWith({ brokers: cluster.bootstrap, ssl: true, sasl: cluster.client.sasl })).rejects.toThrow(/self-signed certificate/);
  });

  it('the mutual-TLS listener takes the run\'s client certificate and refuses a client without one', async () => {
    const mutualTls = cluster.mutualTls!;
    await expect(describeWith({ brokers: mutualTls.bootstrap, ...mutualTls.client })).resolves.toEqual([1]);
    await expect(describeWith({ brokers: mutualTls.bootstrap, ssl: { ca: mutualTls.client.ssl!.ca } })).rejects.toThrow(/certificate/);
  });

  it("its variables point at the run's files, and hold no secret themselves", () => {
    expect(cluster.env).toEqual({
      KAFKA_BROKERS: cluster.bootstrap.join(','),
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: cluster.certificates!.caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'trade-webhooks',
      KAFKA_SASL_PASSWORD_FILE: expect.any(String),
    });
    expect(readFileSync(cluster.env.KAFKA_SASL_PASSWORD_FILE!, 'utf8')).toBe(cluster.client.sasl && 'password' in cluster.client.sasl ? cluster.client.sasl.password : undefined);
    expect(cluster.mutualTls!.env).toEqual({
      KAFKA_BROKERS: cluster.mutualTls!.bootstrap.join(','),
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: cluster.certificates!.caFile,
      KAFKA_SSL_CERT_FILE: cluster.certificates!.clientCertFile,
      KAFKA_SSL_KEY_FILE: cluster.certificates!.clientKeyFile,
    });
  });
});

describe('startKafkaCluster: a stopped cluster started again from its state folder', () => {
  it('has its topic and records, on other ports', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'trade-webhooks-kept-kafka-'));
    onCleanup(() => rmSync(stateDir, { recursive: true, force: true }));
    const topic = uniqueName('kept');

    const first = await ownCluster({ brokers: 1, stateDir });
    const kafka = new Kafka({ brokers: first.bootstrap, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsWithLeaders(admin, [{ topic, partitions: 1 }]);
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'kept across a stop' }] });
    await producer.disconnect();
    await first.stop();

    const second = await ownCluster({ brokers: 1, stateDir });
    expect(second.bootstrap).not.toEqual(first.bootstrap);
    const records = await readTopic(new Kafka({ brokers: second.bootstrap, logLevel: logLevel.NOTHING }), topic, { decode: false, quietMs: 1000, timeoutMs: 30_000 });
    expect(records.map((record) => record.raw.value?.toString())).toEqual(['kept across a stop']);
  }, 120_000);
});
