import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsWithLeaders } from '../../../platform/topics';
import { serverProperties, singleNodeBroker } from '../broker-config';
import { findJava } from './java';
import { cached, copyDependencies } from './maven';
import { startProcess, stopProcess, type ManagedProcess } from './processes';
import { KAFKA_VERSION, type ServiceSettings } from './settings';
import { startService, type StartResult } from './start-service';
import { waitUntil } from './wait-until';

const NAME = 'kafka';

function kafkaLibs(settings: ServiceSettings): string {
  const pom = join(__dirname, 'kafka-pom.xml');
  if (!readFileSync(pom, 'utf8').includes(`<kafka.version>${KAFKA_VERSION}</kafka.version>`)) {
    throw new Error(`kafka-pom.xml does not pin Kafka ${KAFKA_VERSION}`);
  }
  return cached(join(settings.cacheDir, `kafka-${KAFKA_VERSION}`, 'libs'), (scratch) =>
    copyDependencies(pom, scratch, `Kafka ${KAFKA_VERSION}`),
  );
}

function brokerConfig(settings: ServiceSettings, dataDir: string): Record<string, string> {
  const listeners = { bindHost: '127.0.0.1', advertisedHost: '127.0.0.1', port: settings.kafkaPort, controllerPort: settings.kafkaControllerPort };
  return { ...singleNodeBroker(listeners), 'log.dirs': dataDir };
}

export async function kafkaAnswers(brokers: string[], timeoutMs = 3000): Promise<string> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, connectionTimeout: timeoutMs, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    return cluster.clusterId;
  } finally {
    await admin.disconnect();
  }
}

/**
 * A fresh broker answers metadata before its group coordinator and producer-id allocation are
 * ready: the first consumer group and idempotent producer wait for internal topics to be
 * created. Doing that once here means "ready" means ready for what the services do.
 */
async function warmUp(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, maxRetryTime: 2000 } });
  const topic = 'trade-webhooks-warm-up';
  const groupId = `${topic}_${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(admin, [{ topic, partitions: 1 }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'warm-up' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async () => resolve() }).catch(reject);
    });
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Formats the data folder on first use, then starts the broker in a process of its own. */
function launchKafka(settings: ServiceSettings): ManagedProcess {
  const java = findJava(17);
  const libs = kafkaLibs(settings);
  const home = join(settings.stateDir, 'kafka');
  const dataDir = join(home, 'data');
  const config = join(home, 'server.properties');
  mkdirSync(home, { recursive: true });
  writeFileSync(config, serverProperties(brokerConfig(settings, dataDir)));
  const classpath = `${libs}/*`;
  const log4j = `-Dlog4j2.configurationFile=${join(__dirname, 'kafka-log4j2.xml')}`;
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    rmSync(dataDir, { recursive: true, force: true });
    // The tool may log before it prints the id: the id is its last line.
    const clusterId = execFileSync(java.path, ['-cp', classpath, log4j, 'kafka.tools.StorageTool', 'random-uuid'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync(java.path, ['-cp', classpath, log4j, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const marker = `-Dtrade-webhooks.service=${NAME}:${home}`;
  return startProcess({
    stateDir: settings.stateDir,
    name: NAME,
    command: java.path,
    args: ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', marker, log4j, '-cp', classpath, 'kafka.Kafka', config],
    cwd: home,
    marker,
  });
}

export async function startKafka(settings: ServiceSettings): Promise<StartResult> {
  const brokers = [`127.0.0.1:${settings.kafkaPort}`];
  const result = await startService({
    settings,
    name: NAME,
    what: 'Kafka',
    answers: () => kafkaAnswers(brokers),
    launch: () => launchKafka(settings),
    ports: [settings.kafkaPort, settings.kafkaControllerPort],
  });
  if (result === 'started') {
    await waitUntil('Kafka consumer groups and idempotent producers', () => warmUp(brokers), { timeoutMs: settings.startTimeoutMs });
  }
  return result;
}

/**
 * Stops the broker this clone started. Its data stays: the next start has the same topics and
 * committed offsets, whose records name schemas the registry keeps in its database.
 */
export function stopKafka(settings: ServiceSettings): Promise<boolean> {
  return stopProcess(settings.stateDir, NAME, 30_000);
}

/** Deletes the stopped broker's data: the next start formats an empty one. */
export function deleteKafkaData(settings: ServiceSettings): void {
  rmSync(join(settings.stateDir, 'kafka'), { recursive: true, force: true });
}
