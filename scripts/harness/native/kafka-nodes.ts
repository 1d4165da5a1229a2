import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clusterNodes, serverProperties, type ClusterShape, type KafkaNode } from '../broker-config';
import { findJava } from './java';
import { cached, copyDependencies } from './maven';
import { killProcess, logFile, runningProcess, startProcess, stopProcess, type ManagedProcess } from './processes';
import { KAFKA_VERSION } from './settings';

const run = promisify(execFile);

/** A node of a native cluster: its configuration, and where this clone keeps its files. */
export interface NativeNode extends KafkaNode {
  /** Its pid and log file's name: `kafka` for a single node, else `kafka-controller` and `kafka-broker-<id>`. */
  readonly name: string;
  readonly home: string;
  readonly config: string;
  readonly dataDir: string;
}

/** What every node of a cluster shares when it is launched. */
export interface NodeLaunch {
  /** Pid files and logs: `<stateDir>/run`, `<stateDir>/logs`. */
  readonly stateDir: string;
  readonly cacheDir: string;
  /** A broker's JVM heap in MiB, initial and maximum; a dedicated controller needs less. */
  readonly brokerHeapMb: readonly [number, number];
}

const CONTROLLER_HEAP_MB = [64, 256] as const;

/** The folder all of a cluster's files are kept in. */
export function kafkaHome(stateDir: string): string {
  return join(stateDir, 'kafka');
}

export function kafkaLibs(cacheDir: string): string {
  const pom = join(__dirname, 'kafka-pom.xml');
  if (!readFileSync(pom, 'utf8').includes(`<kafka.version>${KAFKA_VERSION}</kafka.version>`)) {
    throw new Error(`kafka-pom.xml does not pin Kafka ${KAFKA_VERSION}`);
  }
  return cached(join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs'), (scratch) => copyDependencies(pom, scratch, `Kafka ${KAFKA_VERSION}`));
}

function log4jOption(): string {
  return `-Dlog4j2.configurationFile=${join(__dirname, 'kafka-log4j2.xml')}`;
}

/**
 * The nodes of `shape` with their files under `stateDir`. A single node keeps the layout it
 * always had (`kafka/server.properties`, `kafka/data`); the nodes of a cluster each have a
 * folder of their own beside it.
 */
export function nativeNodes(stateDir: string, shape: ClusterShape): NativeNode[] {
  const home = kafkaHome(stateDir);
  return clusterNodes(shape).map((node) => {
    const role = node.roles === 'controller' ? 'controller' : `broker-${node.nodeId}`;
    const name = node.roles === 'broker,controller' ? 'kafka' : `kafka-${role}`;
    const nodeHome = node.roles === 'broker,controller' ? home : join(home, role);
    const dataDir = join(nodeHome, 'data');
    return { ...node, properties: { ...node.properties, 'log.dirs': dataDir }, name, home: nodeHome, config: join(nodeHome, 'server.properties'), dataDir };
  });
}

export function writeNodeConfig(node: NativeNode): void {
  mkdirSync(node.home, { recursive: true });
  // The properties hold the stores' password.
  writeFileSync(node.config, serverProperties(node.properties), { mode: 0o600 });
}

function isFormatted(node: NativeNode): boolean {
  return existsSync(join(node.dataDir, 'meta.properties'));
}

/**
 * Formats the data folders that are not yet, all with the one cluster id, in parallel (each
 * format is a JVM start). `scram` are `--add-scram` credentials: they are written into the
 * cluster's first metadata, which the controller applies when it first starts.
 */
export async function formatNodes(nodes: readonly NativeNode[], options: { cacheDir: string; clusterId: string; scram: readonly string[] }): Promise<void> {
  const java = findJava(17);
  const classpath = `${kafkaLibs(options.cacheDir)}/*`;
  const scram = options.scram.flatMap((credential) => ['--add-scram', credential]);
  await Promise.all(
    nodes.filter((node) => !isFormatted(node)).map(async (node) => {
      // What an interrupted format left behind.
      rmSync(node.dataDir, { recursive: true, force: true });
      try {
        // A short-lived tool: the quick compiler and a one-thread collector start it sooner on a small machine.
        await run(java.path, ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', classpath, log4jOption(), 'kafka.tools.StorageTool', 'format', '-t', options.clusterId, '-c', node.config, ...scram]);
      } catch (error) {
        // The error's message holds the command line, with the credentials: only the tool's output is shown.
        const { stdout, stderr } = error as { stdout?: string; stderr?: string };
        throw new Error(`Formatting Kafka node ${node.nodeId} (${node.dataDir}) failed: ${`${stderr ?? ''}${stdout ?? ''}`.trim().split('\n').slice(-3).join(' ')}`);
      }
    }),
  );
}

/** Starts a formatted node in a process of its own. */
export function launchNode(node: NativeNode, options: NodeLaunch): ManagedProcess {
  const java = findJava(17);
  const [initial, maximum] = node.roles === 'controller' ? CONTROLLER_HEAP_MB : options.brokerHeapMb;
  const marker = `-Dtrade-webhooks.service=${node.name}:${node.home}`;
  return startProcess({
    stateDir: options.stateDir,
    name: node.name,
    command: java.path,
    args: [`-Xms${initial}m`, `-Xmx${maximum}m`, '-XX:+UseG1GC', marker, log4jOption(), '-cp', `${kafkaLibs(options.cacheDir)}/*`, 'kafka.Kafka', node.config],
    cwd: node.home,
    marker,
  });
}

export function nodeProcess(stateDir: string, node: NativeNode): ManagedProcess | undefined {
  return runningProcess(stateDir, node.name);
}

export function nodeLog(stateDir: string, node: NativeNode): string {
  return logFile(stateDir, node.name);
}

/** SIGTERM: a broker's controlled shutdown hands its partitions' leadership to the others first. */
export function stopNode(stateDir: string, node: NativeNode): Promise<boolean> {
  return stopProcess(stateDir, node.name, 60_000);
}

/** kill -9: no controlled shutdown, as in a crash. */
export function killNode(stateDir: string, node: NativeNode): Promise<boolean> {
  return killProcess(stateDir, node.name);
}
