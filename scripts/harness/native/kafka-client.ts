import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';

/** How a kafkajs client reaches a cluster's listener: TLS and SASL as kafkajs takes them. */
export interface KafkaClientOptions {
  readonly ssl?: ConnectionOptions;
  readonly sasl?: SASLOptions;
}

/** One way in to a cluster: its addresses, kafkajs options, and the services' variables that say the same. */
export interface KafkaEndpoint {
  readonly bootstrap: string[];
  readonly client: KafkaClientOptions;
  /** `KAFKA_BROKERS` and the `KAFKA_SSL*` / `KAFKA_SASL*` variables, secrets as `_FILE` paths. */
  readonly env: Readonly<Record<string, string>>;
}

/** The cluster's id, once a broker answers a metadata request. */
export async function kafkaAnswers(brokers: string[], timeoutMs = 3000, client: KafkaClientOptions = {}): Promise<string> {
  const kafka = new Kafka({ brokers, ...client, logLevel: logLevel.NOTHING, connectionTimeout: timeoutMs, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    return cluster.clusterId;
  } finally {
    await admin.disconnect();
  }
}

/** Whether broker `nodeId` is up and part of the cluster, asked of that broker alone. */
export async function brokerServes(address: string, nodeId: number, client: KafkaClientOptions = {}): Promise<void> {
  const kafka = new Kafka({ brokers: [address], ...client, logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    if (!brokers.some((broker) => broker.nodeId === nodeId)) throw new Error(`broker ${nodeId} is not among the cluster's live brokers yet`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * A fresh cluster answers metadata before its group coordinator and producer-id allocation are
 * ready, and before every broker has registered: the first consumer group and idempotent
 * producer wait for internal topics to be created. Doing that once here, on a topic with a
 * replica on each of `replicas` brokers acknowledging with acks=all, means "ready" means ready
 * for what the services do, on every broker.
 */
export async function warmUp(endpoint: KafkaEndpoint, replicas: number): Promise<void> {
  const kafka = new Kafka({ brokers: endpoint.bootstrap, ...endpoint.client, logLevel: logLevel.NOTHING, retry: { retries: 20, maxRetryTime: 2000 } });
  // A name of its own per attempt: a topic deleted by a failed attempt may not be gone yet.
  const topic = `trade-webhooks-warm-up-${Date.now()}`;
  const groupId = `${topic}_group`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Fails (INVALID_REPLICATION_FACTOR) until `replicas` brokers are registered, and is retried.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: replicas }], waitForLeaders: false, timeout: 30_000 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'warm-up' }] });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve, reject) => {
        // Bounded: a probe that never ends would outlast the caller's deadline.
        timer = setTimeout(() => reject(new Error('the warm-up consumer received nothing within 30 s')), 30_000);
        consumer.run({ eachMessage: async () => resolve() }).catch(reject);
      }).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
