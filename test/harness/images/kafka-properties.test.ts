import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { clusterNodes, kafkaImageEnvironment, singleNodeBroker } from '../../../scripts/harness/broker-config';

const SCRIPT = join(__dirname, '..', '..', '..', 'scripts', 'harness', 'images', 'kafka', 'kafka-properties.sh');

/** The local Kafka image's properties for `env`, as its entrypoint writes them, read back into a record. */
function imageProperties(env: Record<string, string>): Record<string, string> {
  const text = execFileSync('bash', [SCRIPT], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  return Object.fromEntries(text.split('\n').filter(Boolean).map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), line.slice(at + 1)];
  }));
}

describe("the local Kafka image's KAFKA_* variables", () => {
  it("read back as the single node's properties they were written from", () => {
    const properties = singleNodeBroker({ bindHost: '0.0.0.0', advertisedHost: 'localhost', port: 9092, controllerPort: 9093 });
    expect(imageProperties(kafkaImageEnvironment(properties))).toEqual(properties);
  });

  // A sasl_ssl node's names hold `_` and `-` (listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config)
  // and its values `=`, spaces and `;`.
  it('read back names with underscores and dashes, and values with = and spaces, unchanged', () => {
    const [node] = clusterNodes({
      security: 'sasl_ssl',
      bindHost: '0.0.0.0',
      advertisedHost: 'kafka.test',
      controllerPort: 9093,
      brokers: [{ port: 9092, sslPort: 9094, internalPort: 9095 }],
      stores: { keystore: '/stores/key store.p12', truststore: '/stores/trust.p12', password: 'a=b c;d' },
    });
    expect(node!.properties).toHaveProperty(['listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config']);
    expect(imageProperties(kafkaImageEnvironment(node!.properties))).toEqual(node!.properties);
  });

  it("leave out the variables that set the JVM's options rather than the broker's, and every other variable", () => {
    expect(
      imageProperties({ KAFKA_HEAP_OPTS: '-Xmx1G', KAFKA_OPTS: '-Dx=y', KAFKA_LOG4J_OPTS: '-Dz', CLUSTER_ID: 'abc', OTHER_SETTING: 'x', KAFKA_NODE_ID: '3' }),
    ).toEqual({ 'node.id': '3' });
  });
});
