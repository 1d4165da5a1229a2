import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SCRAM_MECHANISMS, type BrokerPorts, type ClusterShape, type KafkaSecurity } from '../broker-config';
import { generateKafkaCertificates, type KafkaCertificates } from './kafka-certificates';
import { brokerServes, kafkaAnswers, warmUp, type KafkaEndpoint } from './kafka-client';
import {
  formatNodes,
  isWithin,
  kafkaHome,
  kafkaProcessNames,
  launchNode,
  nativeNodes,
  nodeLog,
  nodeProcess,
  runningNodeHomes,
  writeNodeConfig,
  type NativeNode,
} from './kafka-nodes';
import { findJava, keytoolOf } from './java';
import { stopProcess } from './processes';
import type { StartResult } from './start-service';
import { waitUntil } from './wait-until';

/** What a native cluster is to be: `npm run services:up` plans one from its settings, tests on free ports. */
export interface ClusterPlan {
  /** Pid files, logs and the cluster's files (in its folder, `kafkaHome`). */
  readonly stateDir: string;
  /** Where the Kafka jars are kept between runs. */
  readonly cacheDir: string;
  readonly security: KafkaSecurity;
  readonly controllerPort: number;
  /** One entry per broker; `sasl_ssl` brokers need all three ports. */
  readonly brokers: readonly BrokerPorts[];
  readonly brokerHeapMb: readonly [number, number];
  readonly startTimeoutMs: number;
}

/** A cluster's files written and its nodes known: ready to start, or to be driven by a test. */
export interface PreparedCluster {
  readonly plan: ClusterPlan;
  readonly clusterId: string;
  readonly nodes: readonly NativeNode[];
  /** The nodes clients connect to, broker 1 first. */
  readonly brokers: readonly NativeNode[];
  /** PLAINTEXT, or SASL_SSL with SCRAM-SHA-512 and the run's CA. */
  readonly endpoint: KafkaEndpoint;
  /** `sasl_ssl` only: the SSL listeners, with the run's client certificate. */
  readonly mutualTls?: KafkaEndpoint;
  readonly certificates?: KafkaCertificates;
}

/** The SCRAM user a `sasl_ssl` cluster is formatted with (every mechanism, one password). */
export const SCRAM_USER = 'trade-webhooks';

/** The host every node binds and advertises: the certificates are made for it. */
const HOST = '127.0.0.1';

/** What `cluster.json` in a cluster's folder records of the cluster whose files are there. */
interface ClusterRecord {
  readonly clusterId: string;
  readonly security: KafkaSecurity;
  readonly controllerPort: number;
  readonly brokers: readonly BrokerPorts[];
}

type ClusterShapeRecord = Omit<ClusterRecord, 'clusterId'>;

function describeShape(shape: ClusterShapeRecord): string {
  const ports = shape.brokers.map(({ port }) => port).join(', ');
  const plural = shape.brokers.length === 1 ? '' : 's';
  return `${shape.brokers.length} broker${plural} (${shape.security}, port${plural} ${ports}, controller port ${shape.controllerPort})`;
}

function sameShape(a: ClusterShapeRecord, b: ClusterShapeRecord): boolean {
  const { security, controllerPort, brokers } = a;
  return JSON.stringify({ security, controllerPort, brokers }) === JSON.stringify({ security: b.security, controllerPort: b.controllerPort, brokers: b.brokers });
}

/** A Kafka cluster id: 16 random bytes, base64url; never starting with '-', which the tool would take for an option. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The shape a cluster folder's record names, if it has one. */
function recordedShape(home: string): ClusterRecord | undefined {
  const file = join(home, 'cluster.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterRecord) : undefined;
}

/**
 * One cluster runs from a state folder at a time, as it was started: the shapes share ports and
 * node names. Another one is named by its record, kept in its folder or the one above (a
 * dedicated controller's or broker's folder is inside its cluster's).
 */
function refuseWhileAnotherRuns(stateDir: string, home: string, recorded: ClusterRecord | undefined, wanted: ClusterShapeRecord): void {
  const running = runningNodeHomes(stateDir);
  if (running.length === 0) return;
  const other = running.find((nodeHome) => !isWithin(nodeHome, home));
  // This cluster runs: as it was recorded, or from before records were kept.
  if (other === undefined && (!recorded || sameShape(recorded, wanted))) return;
  const shape = other === undefined ? recorded : (recordedShape(other) ?? recordedShape(dirname(other)));
  const as = shape ? describeShape(shape) : `the cluster in ${other}`;
  throw new Error(`Kafka already runs from ${stateDir} as ${as}, not ${describeShape(wanted)}: stop it first (npm run services:down; its data is kept).`);
}

/**
 * The cluster recorded in `<its folder>/cluster.json`, made on first use. Each broker count and
 * security has a folder of its own (`kafkaHome`), so its data is never another shape's. A
 * folder's ports may change while it is stopped: they are only where the nodes listen, and every
 * node's properties name the controller quorum (static voters), so the nodes find each other on
 * the new ones with their data as it was. Files without a record (a single node from before
 * records were kept) are adopted as they are, data and all.
 */
function clusterRecord(plan: ClusterPlan): ClusterRecord {
  const home = kafkaHome(plan.stateDir, plan.brokers.length, plan.security);
  const wanted = { security: plan.security, controllerPort: plan.controllerPort, brokers: plan.brokers };
  const recorded = recordedShape(home);
  refuseWhileAnotherRuns(plan.stateDir, home, recorded, wanted);
  if (recorded && (recorded.security !== wanted.security || recorded.brokers.length !== wanted.brokers.length)) {
    throw new Error(`Kafka's files in ${home} are of ${describeShape(recorded)}, not ${describeShape(wanted)}: move them away, or delete them to start this cluster empty.`);
  }
  const record = { clusterId: recorded?.clusterId ?? newClusterId(), ...wanted };
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'cluster.json'), JSON.stringify(record, null, 2));
  return record;
}

/** The run's password of the SCRAM user, made once and kept in a file of its own. */
function scramPasswordFile(home: string): string {
  const file = join(home, 'security', 'client.password');
  mkdirSync(join(home, 'security'), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('hex'), { mode: 0o600 });
  return file;
}

function endpoints(plan: ClusterPlan, certificates?: KafkaCertificates, passwordFile?: string): Pick<PreparedCluster, 'endpoint' | 'mutualTls'> {
  const addresses = (port: (broker: BrokerPorts) => number | undefined) => plan.brokers.map((broker) => `${HOST}:${port(broker)}`);
  if (plan.security === 'plaintext' || !certificates || !passwordFile) {
    const bootstrap = addresses((broker) => broker.port);
    return { endpoint: { bootstrap, client: {}, env: { KAFKA_BROKERS: bootstrap.join(',') } } };
  }
  const ca = readFileSync(certificates.caFile, 'utf8');
  const sasl = addresses((broker) => broker.port);
  const ssl = addresses((broker) => broker.sslPort);
  return {
    endpoint: {
      bootstrap: sasl,
      client: { ssl: { ca: [ca] }, sasl: { mechanism: 'scram-sha-512', username: SCRAM_USER, password: readFileSync(passwordFile, 'utf8') } },
      env: {
        KAFKA_BROKERS: sasl.join(','),
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: certificates.caFile,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: SCRAM_USER,
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
      },
    },
    mutualTls: {
      bootstrap: ssl,
      client: { ssl: { ca: [ca], cert: readFileSync(certificates.clientCertFile, 'utf8'), key: readFileSync(certificates.clientKeyFile, 'utf8') } },
      env: {
        KAFKA_BROKERS: ssl.join(','),
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: certificates.caFile,
        KAFKA_SSL_CERT_FILE: certificates.clientCertFile,
        KAFKA_SSL_KEY_FILE: certificates.clientKeyFile,
      },
    },
  };
}

/**
 * Writes the cluster's files: its record, for `sasl_ssl` the run's certificates and SCRAM
 * password (made once, kept while the cluster's files are), and every node's properties.
 */
export function prepareCluster(plan: ClusterPlan): PreparedCluster {
  const { clusterId } = clusterRecord(plan);
  const home = kafkaHome(plan.stateDir, plan.brokers.length, plan.security);
  let certificates: KafkaCertificates | undefined;
  let passwordFile: string | undefined;
  let shape: ClusterShape = { security: plan.security, bindHost: HOST, advertisedHost: HOST, controllerPort: plan.controllerPort, brokers: plan.brokers };
  if (plan.security === 'sasl_ssl') {
    const inUse = runningNodeHomes(plan.stateDir).some((nodeHome) => isWithin(nodeHome, home));
    certificates = generateKafkaCertificates(join(home, 'security', 'tls'), { hosts: ['localhost', HOST], keytool: keytoolOf(findJava(17).path), inUse });
    passwordFile = scramPasswordFile(home);
    const stores = { keystore: certificates.keystore, truststore: certificates.truststore, password: readFileSync(certificates.storePasswordFile, 'utf8') };
    shape = { ...shape, stores };
  }
  const nodes = nativeNodes(plan.stateDir, shape);
  for (const node of nodes) writeNodeConfig(node);
  return { plan, clusterId, nodes, brokers: nodes.filter((node) => node.roles.includes('broker')), certificates, ...endpoints(plan, certificates, passwordFile) };
}

function scramCredentials(cluster: PreparedCluster): string[] {
  const passwordFile = cluster.endpoint.env.KAFKA_SASL_PASSWORD_FILE;
  if (!passwordFile) return [];
  const password = readFileSync(passwordFile, 'utf8');
  return SCRAM_MECHANISMS.map((mechanism) => `${mechanism}=[name=${SCRAM_USER},password=${password}]`);
}

/** Formats and launches `nodes` (those not already running), and fails fast if one exits. */
async function launch(cluster: PreparedCluster, nodes: readonly NativeNode[]): Promise<() => boolean> {
  const { plan } = cluster;
  await formatNodes(nodes, { cacheDir: plan.cacheDir, clusterId: cluster.clusterId, scram: scramCredentials(cluster) });
  const launched = nodes.map((node) => ({ node, pid: launchNode(node, plan).pid }));
  return () => launched.every(({ node, pid }) => nodeProcess(plan.stateDir, node)?.pid === pid);
}

function logHint(cluster: PreparedCluster, nodes: readonly NativeNode[]): string {
  const ports = [cluster.plan.controllerPort, ...cluster.plan.brokers.flatMap((broker) => [broker.port, broker.sslPort, broker.internalPort])].filter(Boolean);
  return `See ${nodes.map((node) => nodeLog(cluster.plan.stateDir, node)).join(', ')}; is one of ports ${ports.join(', ')} taken?`;
}

/**
 * Starts the cluster's nodes that are not running, then waits until it accepts an idempotent
 * produce with acks=all on a topic replicated to every broker, and a consumer group. `running`:
 * every node was already running (started earlier by this clone); `external`: none was, and
 * something else answers on the first broker's port, which is used and left alone.
 */
export async function startCluster(cluster: PreparedCluster): Promise<StartResult> {
  const { plan, endpoint } = cluster;
  const answers = () => kafkaAnswers(endpoint.bootstrap, 3000, endpoint.client);
  const stopped = cluster.nodes.filter((node) => !nodeProcess(plan.stateDir, node));
  if (stopped.length === 0) {
    await waitUntil('Kafka', answers, { timeoutMs: plan.startTimeoutMs });
    return 'running';
  }
  if (stopped.length === cluster.nodes.length && (await answers().then(() => true, () => false))) return 'external';
  const alive = await launch(cluster, stopped);
  const hint = logHint(cluster, stopped);
  await waitUntil('Kafka', answers, { timeoutMs: plan.startTimeoutMs, alive, hint });
  await waitUntil(`Kafka's ${cluster.brokers.length} broker(s) taking idempotent produces (acks=all) and consumer groups`, () => warmUp(endpoint, cluster.brokers.length), {
    timeoutMs: plan.startTimeoutMs,
    alive,
    hint,
  });
  return 'started';
}

/** Starts one broker of the cluster again and waits until it serves as part of the cluster. */
export async function startBroker(cluster: PreparedCluster, broker: NativeNode): Promise<void> {
  if (nodeProcess(cluster.plan.stateDir, broker)) return;
  const alive = await launch(cluster, [broker]);
  const index = cluster.brokers.indexOf(broker);
  await waitUntil(`Kafka broker ${broker.nodeId}`, () => brokerServes(cluster.endpoint.bootstrap[index]!, broker.nodeId, cluster.endpoint.client), {
    timeoutMs: cluster.plan.startTimeoutMs,
    alive,
    hint: logHint(cluster, [broker]),
  });
}

/**
 * Stops every Kafka node this clone runs from `stateDir`: the brokers first, with a controlled
 * shutdown each, then the controller they report to. Returns whether any was running.
 */
export async function stopCluster(stateDir: string, nodes?: readonly NativeNode[]): Promise<boolean> {
  const names = nodes ? nodes.map((node) => node.name) : kafkaProcessNames(stateDir);
  const brokers = names.filter((name) => name.startsWith('kafka-broker-'));
  const others = names.filter((name) => !brokers.includes(name));
  const stopped = await Promise.all(brokers.map((name) => stopProcess(stateDir, name, 60_000)));
  stopped.push(...(await Promise.all(others.map((name) => stopProcess(stateDir, name, 60_000)))));
  return stopped.some(Boolean);
}
