/**
 * The one Kafka broker configuration the project runs on. By default a single KRaft node that
 * is both broker and controller: the native broker writes it as server.properties,
 * testcontainers hands it to the apache/kafka image as environment variables, and
 * docker-compose.yml (static YAML) is held to it by test/harness/broker-config.test.ts.
 * A cluster of several brokers (`clusterNodes`) is the same configuration, with a dedicated
 * controller node and the replication its broker count allows.
 */

/** Settings every node has, whatever its role, its broker count and wherever it listens. */
const COMMON_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  'controller.listener.names': 'CONTROLLER',
  // Fewer internal partitions than the defaults (50): a fresh broker creates them when they
  // are first needed, and the first consumer group waits until every one has a leader.
  'offsets.topic.num.partitions': '6',
  'transaction.state.log.num.partitions': '1',
  // A consumer group of one member need not wait for others to join before it is balanced.
  'group.initial.rebalance.delay.ms': '0',
  // Development and test machines are small and shared: fewer threads than the defaults.
  'num.network.threads': '2',
  'num.io.threads': '4',
  // Topics are created by the services with their partition count; a typo must fail, not
  // create a one-partition topic.
  'auto.create.topics.enable': 'false',
});

/**
 * Copies of every record on `brokers` brokers: three where there are three (a broker may be lost
 * and another restarted), and an acknowledgement (acks=all) needs two of them in sync, so an
 * acknowledged record survives the loss of any one broker. The internal topics (consumer offsets,
 * transaction and share state) follow the same rule; they cannot have more replicas than
 * brokers, or consumer groups and the idempotent producer wait forever for their coordinators.
 */
export function replicationSettings(brokers: number): Readonly<Record<string, string>> {
  if (!Number.isInteger(brokers) || brokers < 1) throw new RangeError(`a cluster has at least one broker, got ${brokers}`);
  const factor = String(Math.min(3, brokers));
  const minInSync = String(Math.min(2, brokers));
  return Object.freeze({
    'offsets.topic.replication.factor': factor,
    'transaction.state.log.replication.factor': factor,
    'transaction.state.log.min.isr': minInSync,
    'share.coordinator.state.topic.replication.factor': factor,
    'share.coordinator.state.topic.min.isr': minInSync,
    'default.replication.factor': factor,
    'min.insync.replicas': minInSync,
  });
}

/**
 * The single node's settings that do not depend on where it listens; `singleNodeBroker` adds
 * the listener lines for one client listener.
 */
export const BROKER_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  'process.roles': 'broker,controller',
  'node.id': '1',
  ...COMMON_SETTINGS,
  ...replicationSettings(1),
});

/** Where a single-node broker listens: one client listener (PLAINTEXT) and the controller's. */
export interface BrokerListeners {
  /** The address it binds. */
  readonly bindHost: string;
  /** The address clients are told to connect to, and the controller voter's address unless `controllerHost` is given. */
  readonly advertisedHost: string;
  readonly port: number;
  readonly controllerPort: number;
  /**
   * Where the node reaches its own controller listener, when that is not where clients reach it:
   * in a container, clients come through the engine's host and the controller is on localhost.
   */
  readonly controllerHost?: string;
  /**
   * A second client listener (PLAINTEXT too), for clients that reach the node by another name:
   * containers on the node's Docker network, where the engine's host is not the node.
   */
  readonly network?: { readonly host: string; readonly port: number };
}

/** The shared settings and the listener lines for `listeners`. */
export function singleNodeBroker(listeners: BrokerListeners): Readonly<Record<string, string>> {
  const { bindHost, advertisedHost, port, controllerPort, controllerHost = advertisedHost, network } = listeners;
  return Object.freeze({
    ...BROKER_SETTINGS,
    'controller.quorum.voters': `${BROKER_SETTINGS['node.id']}@${controllerHost}:${controllerPort}`,
    listeners: [`PLAINTEXT://${bindHost}:${port}`, ...(network ? [`NETWORK://${bindHost}:${network.port}`] : []), `CONTROLLER://${bindHost}:${controllerPort}`].join(','),
    'advertised.listeners': [`PLAINTEXT://${advertisedHost}:${port}`, ...(network ? [`NETWORK://${network.host}:${network.port}`] : [])].join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': `CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${network ? ',NETWORK:PLAINTEXT' : ''}`,
  });
}

export type KafkaSecurity = 'plaintext' | 'sasl_ssl';

/** The SASL mechanisms a `sasl_ssl` cluster accepts; each user gets a credential for every one. */
export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/** A broker's client port; a `sasl_ssl` broker also needs its mutual-TLS and inter-broker ports. */
export interface BrokerPorts {
  /** PLAINTEXT, or SASL_SSL. */
  readonly port: number;
  /** SSL with client certificates required (`sasl_ssl` only). */
  readonly sslPort?: number;
  /** Broker-to-broker traffic (`sasl_ssl` only). */
  readonly internalPort?: number;
}

/** The PKCS12 key and trust stores every TLS listener of a `sasl_ssl` cluster presents and trusts. */
export interface BrokerStores {
  readonly keystore: string;
  readonly truststore: string;
  readonly password: string;
}

/** Everything the nodes' properties depend on. */
export interface ClusterShape {
  readonly security: KafkaSecurity;
  readonly bindHost: string;
  readonly advertisedHost: string;
  /** The controller quorum's listener: the broker's own with one broker, else a node of its own. */
  readonly controllerPort: number;
  /** One entry per broker; broker `i` (from 0) is node `i + 1`. */
  readonly brokers: readonly BrokerPorts[];
  /** Required for `sasl_ssl`. */
  readonly stores?: BrokerStores;
}

export interface KafkaNode {
  readonly nodeId: number;
  readonly roles: 'broker,controller' | 'broker' | 'controller';
  readonly properties: Readonly<Record<string, string>>;
}

/** The dedicated controller's node id: apart from the brokers' 1..N, so logs never confuse the two. */
export const CONTROLLER_NODE_ID = 100;

const SCRAM_LOGIN = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';

/**
 * The TLS half of a `sasl_ssl` node. Every listener but the SASL one (SSL for clients, the
 * inter-broker and the controller listener) requires a client certificate: there a certificate
 * from the run's CA is the credential, and brokers present theirs to each other and to the
 * controller. Server name checking stays on (Kafka's default), so the broker certificate names
 * the host the nodes advertise.
 */
function tlsSettings(stores: BrokerStores | undefined, mutualTlsListeners: readonly string[]): Record<string, string> {
  if (!stores) throw new Error('a sasl_ssl cluster needs its key and trust stores');
  return {
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': stores.keystore,
    'ssl.keystore.password': stores.password,
    'ssl.key.password': stores.password,
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': stores.truststore,
    'ssl.truststore.password': stores.password,
    ...Object.fromEntries(mutualTlsListeners.map((name) => [`listener.name.${name.toLowerCase()}.ssl.client.auth`, 'required'])),
  };
}

function listenerList(entries: ReadonlyArray<readonly [string, string, number | undefined]>): string {
  return entries.map(([name, host, port]) => {
    if (port === undefined) throw new Error(`listener ${name} has no port`);
    return `${name}://${host}:${port}`;
  }).join(',');
}

/** The listener lines of a broker, with the controller's listener when it is its own controller. */
function brokerListeners(shape: ClusterShape, ports: BrokerPorts, withController: boolean): Record<string, string> {
  const { bindHost, advertisedHost, controllerPort } = shape;
  const controller = withController ? ([['CONTROLLER', bindHost, controllerPort]] as const) : [];
  if (shape.security === 'plaintext') {
    return {
      listeners: listenerList([['PLAINTEXT', bindHost, ports.port], ...controller]),
      'advertised.listeners': listenerList([['PLAINTEXT', advertisedHost, ports.port]]),
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    };
  }
  const clientListeners = (host: string) => [['SASL_SSL', host, ports.port], ['SSL', host, ports.sslPort], ['INTERNAL', host, ports.internalPort]] as const;
  return {
    listeners: listenerList([...clientListeners(bindHost), ...controller]),
    'advertised.listeners': listenerList(clientListeners(advertisedHost)),
    // Brokers replicate over a listener of their own, TLS both ways: no broker ever speaks
    // plaintext, and the brokers' traffic needs no SASL user of its own.
    'inter.broker.listener.name': 'INTERNAL',
    'listener.security.protocol.map': 'CONTROLLER:SSL,INTERNAL:SSL,SASL_SSL:SASL_SSL,SSL:SSL',
    'sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
    ...Object.fromEntries(SCRAM_MECHANISMS.map((mechanism) => [`listener.name.sasl_ssl.${mechanism.toLowerCase()}.sasl.jaas.config`, SCRAM_LOGIN])),
    ...tlsSettings(shape.stores, ['SSL', 'INTERNAL', ...(withController ? ['CONTROLLER'] : [])]),
  };
}

/** The listener lines of the dedicated controller. */
function controllerListeners(shape: ClusterShape): Record<string, string> {
  const listeners = listenerList([['CONTROLLER', shape.bindHost, shape.controllerPort]]);
  if (shape.security === 'plaintext') return { listeners, 'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT' };
  return { listeners, 'listener.security.protocol.map': 'CONTROLLER:SSL', ...tlsSettings(shape.stores, ['CONTROLLER']) };
}

/**
 * Every node of a cluster and its properties (all but `log.dirs`, which is where the node keeps
 * its data). One broker: a single node that is broker and controller, with plaintext exactly
 * `singleNodeBroker`. More: one dedicated controller (a broker restart or kill never takes the
 * quorum with it) and brokers 1..N, replicated as `replicationSettings` says.
 */
export function clusterNodes(shape: ClusterShape): KafkaNode[] {
  const count = shape.brokers.length;
  const replication = replicationSettings(count);
  if (count === 1) {
    const ports = shape.brokers[0]!;
    const properties =
      shape.security === 'plaintext'
        ? singleNodeBroker({ bindHost: shape.bindHost, advertisedHost: shape.advertisedHost, port: ports.port, controllerPort: shape.controllerPort })
        : {
            ...BROKER_SETTINGS,
            'controller.quorum.voters': `${BROKER_SETTINGS['node.id']}@${shape.advertisedHost}:${shape.controllerPort}`,
            ...brokerListeners(shape, ports, true),
          };
    return [{ nodeId: Number(BROKER_SETTINGS['node.id']), roles: 'broker,controller', properties: Object.freeze(properties) }];
  }
  const voters = `${CONTROLLER_NODE_ID}@${shape.advertisedHost}:${shape.controllerPort}`;
  const node = (nodeId: number, roles: KafkaNode['roles'], listeners: Record<string, string>): KafkaNode => ({
    nodeId,
    roles,
    properties: Object.freeze({ 'process.roles': roles, 'node.id': String(nodeId), ...COMMON_SETTINGS, ...replication, 'controller.quorum.voters': voters, ...listeners }),
  });
  return [
    node(CONTROLLER_NODE_ID, 'controller', controllerListeners(shape)),
    ...shape.brokers.map((ports, index) => node(index + 1, 'broker', brokerListeners(shape, ports, false))),
  ];
}

/** As a server.properties file: one `name=value` line each. */
export function serverProperties(config: Readonly<Record<string, string>>): string {
  return Object.entries(config)
    .map(([name, value]) => `${name}=${value}\n`)
    .join('');
}

/**
 * The apache/kafka image's name for a property: `KAFKA_` and the name in capitals, with `_`
 * written `__`, `-` written `___` and `.` written `_` (`ssl.key_store-type` is
 * `KAFKA_SSL_KEY__STORE___TYPE`). This is the image's own rule (its `ConvertKey` in
 * docker/resources/utility/utility.go), which swaps Confluent's images' `__` and `___`. The
 * image cannot read back a one-letter segment between dots (`a.b.c`); no broker property has one.
 */
export function kafkaImageVariable(property: string): string {
  return `KAFKA_${property.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`;
}

/** As the apache/kafka image's environment variables. */
export function kafkaImageEnvironment(config: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([name, value]) => [kafkaImageVariable(name), value]));
}
