import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BROKER_SETTINGS, kafkaImageEnvironment, kafkaImageVariable, serverProperties, singleNodeBroker } from '../../scripts/harness/broker-config';

function composeKafkaEnvironment(): Record<string, string> {
  const compose = parse(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8')) as {
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
    expect(kafkaImageVariable('listener.name.internal.ssl-key_store')).toBe('KAFKA_LISTENER_NAME_INTERNAL_SSL__KEY___STORE');
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
});
