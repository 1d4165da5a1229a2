import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerPorts, KafkaSecurity } from '../broker-config';
import { freePort } from '../free-port';
import type { KafkaCertificates } from './kafka-certificates';
import type { KafkaEndpoint } from './kafka-client';
import { prepareCluster, startBroker, startCluster, stopCluster } from './kafka-cluster';
import { killNode, nodeProcess, stopNode } from './kafka-nodes';
import { serviceSettings } from './settings';

export interface KafkaClusterOptions {
  readonly brokers: number;
  /** Default `plaintext`. */
  readonly security?: KafkaSecurity;
  /** Default: a temporary folder, removed by `stop()`. */
  readonly stateDir?: string;
  readonly startTimeoutMs?: number;
}

/** One broker of the cluster, to be crashed, stopped and started again by a test. */
export interface ClusterBroker {
  readonly nodeId: number;
  /** Its client port (PLAINTEXT or SASL_SSL). */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Its process while it runs. */
  readonly pid: number | undefined;
  /** kill -9, as in a crash: no controlled shutdown. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again (its data kept) and resolves once it serves as part of the cluster. */
  start(): Promise<void>;
  /** A controlled shutdown (SIGTERM): its partitions' leadership moves to the others first. */
  stop(): Promise<void>;
}

/** A cluster of the caller's own: the endpoint clients use (`bootstrap`, `client`, `env`) and its brokers. */
export interface KafkaCluster extends KafkaEndpoint {
  /** `sasl_ssl` only: the SSL listeners that take the run's client certificate. */
  readonly mutualTls?: KafkaEndpoint;
  readonly certificates?: KafkaCertificates;
  readonly brokers: readonly ClusterBroker[];
  /** From the call (ports, certificates, formatting included) to the first acknowledged produce and consumer group. */
  readonly startupMs: number;
  /** Stops every node (brokers first), then removes the state folder if it was a temporary one. */
  stop(): Promise<void>;
}

async function brokerPorts(security: KafkaSecurity): Promise<BrokerPorts> {
  const port = await freePort();
  return security === 'sasl_ssl' ? { port, sslPort: await freePort(), internalPort: await freePort() } : { port };
}

/**
 * Starts a native Kafka cluster on free ports: what `SERVICES_KAFKA_BROKERS` and
 * `SERVICES_KAFKA_SECURITY` make of `npm run services:up`, by the same code, with small heaps.
 */
export async function startKafkaCluster(options: KafkaClusterOptions): Promise<KafkaCluster> {
  const began = performance.now();
  const security = options.security ?? 'plaintext';
  const temporary = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'trade-webhooks-kafka-'));
  const brokers: BrokerPorts[] = [];
  for (let index = 0; index < options.brokers; index += 1) brokers.push(await brokerPorts(security));
  const prepared = prepareCluster({
    stateDir,
    cacheDir: serviceSettings().cacheDir,
    security,
    controllerPort: await freePort(),
    brokers,
    brokerHeapMb: [128, 384],
    startTimeoutMs: options.startTimeoutMs ?? 120_000,
  });
  const stop = async (): Promise<void> => {
    await stopCluster(stateDir, prepared.nodes);
    if (temporary) rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await startCluster(prepared);
  } catch (error) {
    await stop();
    throw error;
  }
  const startupMs = Math.round(performance.now() - began);
  return {
    ...prepared.endpoint,
    mutualTls: prepared.mutualTls,
    certificates: prepared.certificates,
    startupMs,
    brokers: prepared.brokers.map((node, index) => ({
      nodeId: node.nodeId,
      port: brokers[index]!.port,
      address: prepared.endpoint.bootstrap[index]!,
      get pid() {
        return nodeProcess(stateDir, node)?.pid;
      },
      async kill() {
        await killNode(stateDir, node);
      },
      start: () => startBroker(prepared, node),
      async stop() {
        await stopNode(stateDir, node);
      },
    })),
    stop,
  };
}
