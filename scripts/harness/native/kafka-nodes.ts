import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { promisify } from 'node:util';
import { clusterNodes, serverProperties, type ClusterShape, type KafkaNode, type KafkaSecurity } from '../broker-config';
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

/**
 * The folder all of a cluster's files are kept in, one for each broker count and security: the
 * data outlives a stop, so a cluster of another shape must not format over it, and switching
 * back finds the topics and offsets as they were. The single plaintext node keeps the folder it
 * always had (`kafka`), data from before included.
 */
export function kafkaHome(stateDir: string, brokers: number, security: KafkaSecurity): string {
  if (brokers === 1 && security === 'plaintext') return join(stateDir, 'kafka');
  return join(stateDir, `kafka-${brokers}-broker${brokers === 1 ? '' : 's'}-${security}`);
}

/** The folders of every cluster kept in `stateDir`, whatever its shape. */
export function kafkaHomes(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir)
    .filter((name) => /^kafka(-\d+-brokers?-[a-z_]+)?$/.test(name))
    .map((name) => join(stateDir, name));
}

/** Pid files of this clone's Kafka nodes, by name, of whichever cluster. */
export function kafkaProcessNames(stateDir: string): string[] {
  const run = join(stateDir, 'run');
  if (!existsSync(run)) return [];
  return readdirSync(run).filter((file) => /^kafka(-[\w-]+)?\.pid$/.test(file)).map((file) => file.slice(0, -'.pid'.length));
}

const MARKER = '-Dtrade-webhooks.service=';

/** Its name and folder, in its command line: which node of which cluster a process is. */
function nodeMarker(node: NativeNode): string {
  return `${MARKER}${node.name}:${node.home}`;
}

/** Whether a node that runs from `nodeHome` is one of the cluster kept in `home`. */
export function isWithin(nodeHome: string, home: string): boolean {
  return nodeHome === home || nodeHome.startsWith(`${home}${sep}`);
}

/** The folders of this clone's Kafka nodes that run from `stateDir`, of whichever cluster. */
export function runningNodeHomes(stateDir: string): string[] {
  return kafkaProcessNames(stateDir).flatMap((name) => {
    const marker = runningProcess(stateDir, name)?.marker;
    if (!marker?.startsWith(`${MARKER}${name}:`)) return [];
    return [marker.slice(`${MARKER}${name}:`.length)];
  });
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
 * The nodes of `shape` with their files in its folder under `stateDir` (`kafkaHome`). A single
 * node keeps the layout it always had (`server.properties`, `data`); the nodes of a cluster
 * each have a folder of their own in it.
 */
export function nativeNodes(stateDir: string, shape: ClusterShape): NativeNode[] {
  const home = kafkaHome(stateDir, shape.brokers.length, shape.security);
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
  const marker = nodeMarker(node);
  return startProcess({
    stateDir: options.stateDir,
    name: node.name,
    command: java.path,
    args: [`-Xms${initial}m`, `-Xmx${maximum}m`, '-XX:+UseG1GC', marker, log4jOption(), '-cp', `${kafkaLibs(options.cacheDir)}/*`, 'kafka.Kafka', node.config],
    cwd: node.home,
    marker,
  });
}

/** The node's process, if it runs: a node of the same name of another cluster is not it. */
export function nodeProcess(stateDir: string, node: NativeNode): ManagedProcess | undefined {
  const running = runningProcess(stateDir, node.name);
  return running?.marker === nodeMarker(node) ? running : undefined;
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
