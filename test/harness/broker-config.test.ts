import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  BROKER_SETTINGS,
  CONTROLLER_NODE_ID,
  clusterNodes,
  kafkaImageEnvironment,
  kafkaImageVariable,
  serverProperties,
  singleNodeBroker,
  type ClusterShape,
  type KafkaSecurity,
} from '../../scripts/harness/broker-config';

/** `${NAME:-default}` as Compose reads it where NAME is unset: the default. */
function composeDefaults(text: string): string {
  return text.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
}

function composeKafkaEnvironment(): Record<string, string> {
  const compose = parse(composeDefaults(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'))) as {
    services: { kafka: { environment: Record<string, string | number | boolean> } };
  };
  return Object.fromEntries(Object.entries(compose.services.kafka.environment).map(([name, value]) => [name, String(value)]));
}

/** `NAME://host:port,...` as a map from listener name to port. */
function listenerPorts(line: string): Map<string, string> {
  return new Map(line.split(',').map((listener) => {
    const [, name, port] = /^(\w+):\/\/[^:]+:(\d+)$/.exec(listener)!;
    return [name!, port!];
  }));
}

describe('the broker configuration', () => {
  it('docker-compose.yml gives its broker every shared setting', () => {
    expect(composeKafkaEnvironment()).toEqual(expect.objectContaining(kafkaImageEnvironment(BROKER_SETTINGS)));
  });

  // Compose has listener lines of its own: two client listeners, one for the other containers
  // and one published to the host, where the native and test brokers have one. They are held
  // to agree with each other instead.
  it("docker-compose.yml's listener lines agree with each other", () => {
    const env = composeKafkaEnvironment();
    const listeners = listenerPorts(env.KAFKA_LISTENERS!);
    const protocols = new Map(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP!.split(',').map((entry) => entry.split(':') as [string, string]));
    expect([...protocols.keys()].sort()).toEqual([...listeners.keys()].sort());
    for (const name of listenerPorts(env.KAFKA_ADVERTISED_LISTENERS!).keys()) expect(listeners.has(name)).toBe(true);
    expect(listeners.has(env.KAFKA_INTER_BROKER_LISTENER_NAME!)).toBe(true);
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${BROKER_SETTINGS['node.id']}@localhost:${listeners.get(BROKER_SETTINGS['controller.listener.names']!)}`);
  });

  it('names a property as the apache/kafka image does', () => {
    expect(kafkaImageVariable('offsets.topic.replication.factor')).toBe('KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR');
    expect(kafkaImageVariable('listener.name.internal.ssl-key_store')).toBe('KAFKA_LISTENER_NAME_INTERNAL_SSL___KEY__STORE');
  });

  it('gives names the image reads back as the same property, for every setting it renders', () => {
    // The image's ConvertKey: a `_` between two other characters is a `.`, then `___` a `-`,
    // then `__` a `_`, all in lower case (apache/kafka docker/resources/utility/utility.go).
    const imageProperty = (variable: string): string =>
      variable
        .slice('KAFKA_'.length)
        .replace(/[^_]_[^_]/g, (match) => match.replace('_', '.'))
        .replace(/___/g, '-')
        .replace(/__/g, '_')
        .toLowerCase();
    const names = [...Object.keys(BROKER_SETTINGS), 'listener.name.internal.ssl-key_store', 'sasl.enabled.mechanisms', 'ssl.client.auth'];
    expect(names.filter((name) => imageProperty(kafkaImageVariable(name)) !== name)).toEqual([]);
  });

  it('writes server.properties as one name=value line per setting', () => {
    const config = singleNodeBroker({ bindHost: '127.0.0.1', advertisedHost: '127.0.0.1', port: 19092, controllerPort: 19093 });
    const lines = serverProperties(config).trimEnd().split('\n');
    expect(Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))).toEqual(config);
    expect(config).toMatchObject({
      ...BROKER_SETTINGS,
      listeners: 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:19092',
      'controller.quorum.voters': '1@127.0.0.1:19093',
    });
  });

  it('names a controller host of its own when clients reach the node elsewhere, as in a container', () => {
    const config = singleNodeBroker({ bindHost: '0.0.0.0', advertisedHost: '172.17.0.1', port: 19092, controllerPort: 9093, controllerHost: 'localhost' });
    expect(config).toMatchObject({
      'advertised.listeners': 'PLAINTEXT://172.17.0.1:19092',
      'controller.quorum.voters': '1@localhost:9093',
    });
  });

  it('adds a listener of its own for clients on the container network, under the name they reach it by', () => {
    const config = singleNodeBroker({ bindHost: '0.0.0.0', advertisedHost: 'localhost', port: 19092, controllerPort: 9093, controllerHost: 'localhost', network: { host: 'kafka', port: 29092 } });
    expect(config).toMatchObject({
      listeners: 'PLAINTEXT://0.0.0.0:19092,NETWORK://0.0.0.0:29092,CONTROLLER://0.0.0.0:9093',
      'advertised.listeners': 'PLAINTEXT://localhost:19092,NETWORK://kafka:29092',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,NETWORK:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
    });
  });
});

const STORES = { keystore: '/state/broker.p12', truststore: '/state/truststore.p12', password: 'store-secret' };

/** A cluster of `brokers` on ports 20000 + 10 * broker + (0: client, 1: mutual TLS, 2: internal), the controller on 20000. */
function shape(brokers: number, security: KafkaSecurity): ClusterShape {
  return {
    security,
    bindHost: '127.0.0.1',
    advertisedHost: '127.0.0.1',
    controllerPort: 20000,
    brokers: Array.from({ length: brokers }, (_, index) => ({ port: 20010 + 10 * index, sslPort: 20011 + 10 * index, internalPort: 20012 + 10 * index })),
    stores: security === 'sasl_ssl' ? STORES : undefined,
  };
}

/** `NAME://host:port,...` as a map from listener name to its address. */
function listenerAddresses(line: string | undefined): Record<string, string> {
  return Object.fromEntries((line ?? '').split(',').filter(Boolean).map((listener) => {
    const [, name, address] = /^(\w+):\/\/(.+)$/.exec(listener)!;
    return [name!, address!];
  }));
}

describe('the nodes of a cluster', () => {
  it('one plaintext broker is the single node, unchanged', () => {
    expect(clusterNodes(shape(1, 'plaintext'))).toEqual([
      { nodeId: 1, roles: 'broker,controller', properties: singleNodeBroker({ bindHost: '127.0.0.1', advertisedHost: '127.0.0.1', port: 20010, controllerPort: 20000 }) },
    ]);
  });

  it.each([
    // brokers, replication factor, min.insync.replicas
    [1, '1', '1'],
    [2, '2', '2'],
    [3, '3', '2'],
    [5, '3', '2'],
  ])('%i broker(s): every node replicates topics, internal ones too, %s times and acknowledges with %s in sync', (brokers, factor, minInSync) => {
    for (const security of ['plaintext', 'sasl_ssl'] as const) {
      for (const { properties } of clusterNodes(shape(brokers, security))) {
        expect(properties).toMatchObject({
          'default.replication.factor': factor,
          'offsets.topic.replication.factor': factor,
          'transaction.state.log.replication.factor': factor,
          'share.coordinator.state.topic.replication.factor': factor,
          'min.insync.replicas': minInSync,
          'transaction.state.log.min.isr': minInSync,
          'share.coordinator.state.topic.min.isr': minInSync,
        });
      }
    }
  });

  it.each([
    // brokers, security, node ids and roles
    [1, 'plaintext', [[1, 'broker,controller']]],
    [1, 'sasl_ssl', [[1, 'broker,controller']]],
    [3, 'plaintext', [[CONTROLLER_NODE_ID, 'controller'], [1, 'broker'], [2, 'broker'], [3, 'broker']]],
    [3, 'sasl_ssl', [[CONTROLLER_NODE_ID, 'controller'], [1, 'broker'], [2, 'broker'], [3, 'broker']]],
  ] as const)('%i %s broker(s): nodes %j, all voting for the one controller', (brokers, security, nodes) => {
    const built = clusterNodes(shape(brokers, security));
    expect(built.map(({ nodeId, roles }) => [nodeId, roles])).toEqual(nodes);
    const controllerId = nodes[0]![0];
    for (const { nodeId, roles, properties } of built) {
      expect(properties).toMatchObject({ 'node.id': String(nodeId), 'process.roles': roles, 'controller.quorum.voters': `${controllerId}@127.0.0.1:20000` });
    }
  });

  it.each([
    // brokers, security, broker 2's (or the only broker's) listeners, its inter-broker listener
    [3, 'plaintext', { PLAINTEXT: '127.0.0.1:20020' }, 'PLAINTEXT'],
    [3, 'sasl_ssl', { SASL_SSL: '127.0.0.1:20020', SSL: '127.0.0.1:20021', INTERNAL: '127.0.0.1:20022' }, 'INTERNAL'],
    [1, 'sasl_ssl', { SASL_SSL: '127.0.0.1:20010', SSL: '127.0.0.1:20011', INTERNAL: '127.0.0.1:20012', CONTROLLER: '127.0.0.1:20000' }, 'INTERNAL'],
  ] as const)('%i %s broker(s): a broker listens on %j and replicates over %s', (brokers, security, listeners, interBroker) => {
    const broker = clusterNodes(shape(brokers, security)).find(({ nodeId }) => nodeId === Math.min(2, brokers))!.properties;
    expect(listenerAddresses(broker.listeners)).toEqual(listeners);
    const { CONTROLLER: _controller, ...advertised } = listeners as Record<string, string>;
    expect(listenerAddresses(broker['advertised.listeners'])).toEqual(advertised);
    expect(broker['inter.broker.listener.name']).toBe(interBroker);
  });

  it.each([
    [1, 'plaintext'],
    [3, 'plaintext'],
    [1, 'sasl_ssl'],
    [3, 'sasl_ssl'],
  ] as const)('%i %s broker(s): every listener has a protocol, and the controller listens on its own port', (brokers, security) => {
    for (const { roles, properties } of clusterNodes(shape(brokers, security))) {
      const protocols = Object.fromEntries(properties['listener.security.protocol.map']!.split(',').map((entry) => entry.split(':') as [string, string]));
      const listeners = listenerAddresses(properties.listeners);
      for (const name of Object.keys(listeners)) expect(protocols[name]).toBeDefined();
      expect(listeners.CONTROLLER === '127.0.0.1:20000').toBe(roles.includes('controller'));
    }
  });

  it('a sasl_ssl cluster has no plaintext listener, takes both SCRAM mechanisms, and requires client certificates everywhere but on SASL_SSL', () => {
    for (const brokers of [1, 3]) {
      for (const { roles, properties } of clusterNodes(shape(brokers, 'sasl_ssl'))) {
        expect(properties['listener.security.protocol.map']).not.toMatch(/PLAINTEXT/);
        expect(properties).toMatchObject({ 'ssl.keystore.location': STORES.keystore, 'ssl.truststore.location': STORES.truststore });
        // Brokers reach the controller as clients: the controller requires their certificates.
        expect(properties['listener.name.controller.ssl.client.auth']).toBe(roles.includes('controller') ? 'required' : undefined);
        if (!roles.includes('broker')) continue;
        expect(properties).toMatchObject({
          'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
          'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
          'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
          'listener.name.ssl.ssl.client.auth': 'required',
          'listener.name.internal.ssl.client.auth': 'required',
        });
        expect(properties['listener.name.sasl_ssl.ssl.client.auth']).toBeUndefined();
        expect(properties['ssl.client.auth']).toBeUndefined();
      }
    }
  });

  it('refuses a sasl_ssl cluster without its stores', () => {
    expect(() => clusterNodes({ ...shape(3, 'sasl_ssl'), stores: undefined })).toThrow('key and trust stores');
  });
});
