import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { createTopicsWithLeaders } from '../../platform/topics';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';
import { uniqueName } from './names';

export function testKafka(): Kafka {
  return new Kafka({ clientId: 'tests', brokers: serviceEndpoints().kafkaBrokers, logLevel: logLevel.NOTHING });
}

export async function testAdmin(kafka: Kafka = testKafka()): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  onCleanup(() => admin.disconnect());
  return admin;
}

/** A topic of its own for one test, deleted after the file's tests; `configs`: topic-level settings (retention.ms…). */
export async function createTestTopic(admin: Admin, options: { prefix?: string; partitions?: number; configs?: Record<string, string> } = {}): Promise<string> {
  const topic = uniqueName(options.prefix ?? 'test');
  await createTopicsWithLeaders(admin, [{ topic, partitions: options.partitions ?? 1 }]);
  onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));
  if (options.configs !== undefined) {
    const configEntries = Object.entries(options.configs).map(([name, value]) => ({ name, value }));
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }] });
  }
  return topic;
}
