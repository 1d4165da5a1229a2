import { rmSync } from 'node:fs';
import { prepareCluster, startCluster, stopCluster, type ClusterPlan } from './kafka-cluster';
import type { KafkaEndpoint } from './kafka-client';
import { kafkaHomes } from './kafka-nodes';
import type { ServiceSettings } from './settings';
import type { StartResult } from './start-service';

/**
 * The cluster of `npm run services:up`. Broker `i` (from 0) takes the first broker's ports plus
 * 100 i (9092, 9192, 9292, ...); a `sasl_ssl` broker's mutual-TLS and inter-broker listeners are
 * two and three above its client port (9094, 9095), clear of the controller's 9093.
 */
export function servicesClusterPlan(settings: ServiceSettings): ClusterPlan {
  const brokers = Array.from({ length: settings.kafkaBrokerCount }, (_, index) => {
    const port = settings.kafkaPort + 100 * index;
    return settings.kafkaSecurity === 'sasl_ssl' ? { port, sslPort: port + 2, internalPort: port + 3 } : { port };
  });
  return {
    stateDir: settings.stateDir,
    cacheDir: settings.cacheDir,
    security: settings.kafkaSecurity,
    controllerPort: settings.kafkaControllerPort,
    brokers,
    // The single node keeps the heap it always had; a cluster's JVMs share the machine.
    brokerHeapMb: brokers.length === 1 ? [256, 768] : [128, 384],
    startTimeoutMs: settings.startTimeoutMs,
  };
}

export interface KafkaStart {
  readonly result: StartResult;
  readonly endpoint: KafkaEndpoint;
  /** `sasl_ssl` only: the listeners that take the run's client certificate. */
  readonly mutualTls?: KafkaEndpoint;
}

export async function startKafka(settings: ServiceSettings): Promise<KafkaStart> {
  const cluster = prepareCluster(servicesClusterPlan(settings));
  const result = await startCluster(cluster);
  return { result, endpoint: cluster.endpoint, mutualTls: cluster.mutualTls };
}

/**
 * Stops the nodes this clone started. Their data stays: the next start has the same topics and
 * committed offsets, whose records name schemas the registry keeps in its database.
 */
export function stopKafka(settings: ServiceSettings): Promise<boolean> {
  return stopCluster(settings.stateDir);
}

/**
 * Deletes the data of every stopped cluster this clone kept, whatever its broker count and
 * security: they go with the registry's schemas, which all of their records name. The next
 * start formats an empty one.
 */
export function deleteKafkaData(settings: ServiceSettings): void {
  for (const home of kafkaHomes(settings.stateDir)) rmSync(home, { recursive: true, force: true });
}
