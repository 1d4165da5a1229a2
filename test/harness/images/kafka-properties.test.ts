import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { clusterNodes, kafkaImageEnvironment, singleNodeBroker } from '../../../scripts/harness/broker-config';

const SCRIPT = join(__dirname, '..', '..', '..', 'scripts', 'harness', 'images', 'kafka', 'kafka-properties.sh');

function scriptEnvironment(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env };
}

/** java.util.Properties' reading of a value: `\` escapes the next character, `\t`, `\n`, `\r` and `\f` name control characters. */
function unescapePropertiesValue(text: string): string {
  const controls: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };
  return text.replace(/\\(.)/g, (_, next: string) => controls[next] ?? next);
}

/** The local Kafka image's server.properties text for `env`, as its entrypoint writes it. */
function imagePropertiesText(env: Record<string, string>): string {
  return execFileSync('bash', [SCRIPT], { env: scriptEnvironment(env), encoding: 'utf8' });
}

/** The local Kafka image's properties for `env`, read back into a record as the broker reads them. */
function imageProperties(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(imagePropertiesText(env).split('\n').filter(Boolean).map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), unescapePropertiesValue(line.slice(at + 1))];
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
      imageProperties({
        KAFKA_HEAP_OPTS: '-Xmx1G',
        KAFKA_OPTS: '-Dx=y',
        KAFKA_LOG4J_OPTS: '-Dz',
        KAFKA_TOOLS_OPTS: '-Xint',
        CLUSTER_ID: 'abc',
        OTHER_SETTING: 'x',
        KAFKA_NODE_ID: '3',
      }),
    ).toEqual({ 'node.id': '3' });
  });

  // Java's Properties reads `\n` in a value as a line feed and `\\` as one backslash.
  it('write a backslash doubled, so the broker reads C:\\new and a\\\\b as they were set', () => {
    const env = { KAFKA_SSL_KEYSTORE_LOCATION: 'C:\\new', KAFKA_SASL_KERBEROS_SERVICE_NAME: 'a\\\\b' };
    expect(imagePropertiesText(env).split('\n').filter(Boolean).sort()).toEqual(['sasl.kerberos.service.name=a\\\\\\\\b', 'ssl.keystore.location=C:\\\\new']);
    expect(imageProperties(env)).toEqual({ 'ssl.keystore.location': 'C:\\new', 'sasl.kerberos.service.name': 'a\\\\b' });
  });

  it.each([
    ['a line feed', 'kafka\nauto.create.topics.enable=false'],
    ['a carriage return', 'kafka\rauto.create.topics.enable=false'],
  ])('refuse a value with %s, naming the variable and not its value', (_, value) => {
    const result = spawnSync('bash', [SCRIPT], { env: scriptEnvironment({ KAFKA_NODE_ID: '1', KAFKA_SASL_KERBEROS_SERVICE_NAME: value }), encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain('auto.create.topics.enable');
    expect(result.stderr).toContain('KAFKA_SASL_KERBEROS_SERVICE_NAME holds a line break');
    expect(result.stderr).not.toContain('auto.create.topics.enable');
  });
});
