/**
 * The one Kafka broker configuration the project runs on: a single KRaft node that is both
 * broker and controller. The native broker writes it as server.properties, testcontainers
 * hands it to the apache/kafka image as environment variables, and docker-compose.yml (static
 * YAML) is held to it by test/harness/broker-config.test.ts.
 *
 * These are the settings that do not depend on where the broker listens; `singleNodeBroker`
 * adds the listener lines for one client listener.
 */
export const BROKER_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  'process.roles': 'broker,controller',
  'node.id': '1',
  'controller.listener.names': 'CONTROLLER',
  // One node: the internal topics cannot have more replicas than brokers, or consumer
  // groups and the idempotent producer wait forever for their coordinators.
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'share.coordinator.state.topic.replication.factor': '1',
  'share.coordinator.state.topic.min.isr': '1',
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

/** Where a single-node broker listens: one client listener (PLAINTEXT) and the controller's. */
export interface BrokerListeners {
  /** The address it binds. */
  readonly bindHost: string;
  /** The address clients are told to connect to, and the controller voter's address. */
  readonly advertisedHost: string;
  readonly port: number;
  readonly controllerPort: number;
}

/** The shared settings and the listener lines for `listeners`. */
export function singleNodeBroker(listeners: BrokerListeners): Readonly<Record<string, string>> {
  const { bindHost, advertisedHost, port, controllerPort } = listeners;
  return Object.freeze({
    ...BROKER_SETTINGS,
    'controller.quorum.voters': `${BROKER_SETTINGS['node.id']}@${advertisedHost}:${controllerPort}`,
    listeners: `PLAINTEXT://${bindHost}:${port},CONTROLLER://${bindHost}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${advertisedHost}:${port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
  });
}

/** As a server.properties file: one `name=value` line each. */
export function serverProperties(config: Readonly<Record<string, string>>): string {
  return Object.entries(config)
    .map(([name, value]) => `${name}=${value}\n`)
    .join('');
}

/**
 * The apache/kafka image's name for a property: `KAFKA_` and the name in capitals, with `_`
 * written `___`, `-` written `__` and `.` written `_` (so `a.b.c` is `KAFKA_A_B_C`).
 */
export function kafkaImageVariable(property: string): string {
  return `KAFKA_${property.replace(/_/g, '___').replace(/-/g, '__').replace(/\./g, '_').toUpperCase()}`;
}

/** As the apache/kafka image's environment variables. */
export function kafkaImageEnvironment(config: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([name, value]) => [kafkaImageVariable(name), value]));
}
