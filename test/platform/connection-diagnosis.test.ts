import { createServer as createTcpServer, type Server } from 'node:net';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { reachKafka, withRegistryDiagnosis } from '../../platform/connection-diagnosis';
import { connectionFailure, ConnectionProblem } from '../../platform/connection-failures';
import type { KafkaConnection } from '../../platform/kafka-connection';
import type { RegistryConnection } from '../../platform/registry-connection';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { freePort } from '../../scripts/harness/free-port';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { uniqueName } from '../support/names';
import { securedRegistry } from '../support/secured-registry';
import { testCertificates, type KeyPair } from '../support/tls-certificates';
import { tlsListener } from '../support/tls-listener';

const certificates = testCertificates();

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Accepts a connection and closes it at once, as a proxy or a container port does while the broker behind it is down. */
function closingListener(): Promise<string> {
  return listening(createTcpServer((socket) => socket.destroy()));
}

/** What reachKafka rejects with, and the connection failure it is (undefined: one to wait out). */
async function reaching(connection: KafkaConnection): Promise<{ error: unknown; code: string | undefined }> {
  const error = await reachKafka(connection).then(
    () => new Error('the broker was reached'),
    (failure: unknown) => failure,
  );
  return { error, code: connectionFailure(error)?.code };
}

describe('reaching Kafka: a failure only an operator can fix names its cause', () => {
  it('reaches the test broker', async () => {
    await expect(reachKafka({ brokers: serviceEndpoints().kafkaBrokers })).resolves.toBeUndefined();
  });

  it('reaches the cluster through another bootstrap broker when the first is down', async () => {
    await expect(reachKafka({ brokers: [`127.0.0.1:${await freePort()}`, ...serviceEndpoints().kafkaBrokers] })).resolves.toBeUndefined();
  });

  it.each<[string, string, () => Promise<KafkaConnection>]>([
    ['a self-signed certificate, with Node’s CAs trusted', 'broker_certificate_untrusted', async () => ({ brokers: [await tlsListener(certificates.selfSigned)], ssl: { rejectUnauthorized: true } })],
    ['a certificate of a CA not in KAFKA_SSL_CA_FILE', 'broker_certificate_untrusted', async () => ({ brokers: [await tlsListener(certificates.server)], ssl: { ca: certificates.selfSigned.cert, rejectUnauthorized: true } })],
    ['a certificate for another name', 'broker_certificate_name_mismatch', async () => ({ brokers: [await tlsListener(certificates.wrongName)], ssl: { ca: certificates.ca, rejectUnauthorized: true } })],
    ['a listener that requires a client certificate, given none', 'broker_refused_client_certificate', async () => ({ brokers: [await tlsListener(certificates.server, { requestCert: true, rejectUnauthorized: true, ca: certificates.ca })], ssl: { ca: certificates.ca, rejectUnauthorized: true } })],
    ['a TLS listener, from a plaintext client', 'broker_expects_tls', async () => ({ brokers: [await tlsListener(certificates.server)] })],
    ['the plaintext test broker, from a TLS client', 'broker_expects_plaintext', async () => ({ brokers: serviceEndpoints().kafkaBrokers, ssl: { rejectUnauthorized: true } })],
  ])('%s: %s', async (_name, code, connection) => {
    expect((await reaching(await connection())).code).toBe(code);
  });

  it('names the broker it probed when it finds the listener speaks the other protocol', async () => {
    const broker = await tlsListener(certificates.server);
    const { error } = await reaching({ brokers: [broker] });
    expect(error).toBeInstanceOf(ConnectionProblem);
    expect((error as Error).message).toBe(`the broker's listener speaks TLS, but the client connects in plaintext: set KAFKA_SSL=true (${broker})`);
  });

  it.each<[string, () => Promise<KafkaConnection>]>([
    ['nobody listens, plaintext', async () => ({ brokers: [`127.0.0.1:${await freePort()}`] })],
    ['nobody listens, TLS', async () => ({ brokers: [`127.0.0.1:${await freePort()}`], ssl: { rejectUnauthorized: true } })],
    ['the port closes every connection (a broker down behind a proxy), plaintext', async () => ({ brokers: [await closingListener()] })],
    ['the port closes every connection (a broker down behind a proxy), TLS', async () => ({ brokers: [await closingListener()], ssl: { rejectUnauthorized: true } })],
  ])('leaves a broker that is merely down to be waited for: %s', async (_name, connection) => {
    const { error, code } = await reaching(await connection());
    expect(code).toBeUndefined();
    expect(error).not.toBeInstanceOf(ConnectionProblem);
    expect((error as Error).name).toMatch(/^KafkaJS/);
  });
});

/** The real registry behind an https front asking for basic authentication, as a managed registry does, presenting `server`. */
const securedBy = (server: KeyPair = certificates.server) => securedRegistry({ certificates: { ca: certificates.ca, server } });

/** What registering a schema through `connection` rejects with, explained, and the connection failure it is. */
async function registering(connection: RegistryConnection): Promise<{ error: unknown; code: string | undefined }> {
  const registry = createRegistry(connection.url, { auth: connection.auth, ca: connection.ca });
  const error = await withRegistryDiagnosis(connection, () => registerValueSchema(registry, uniqueName('secured'), WEBHOOK_EVENT_SCHEMA_FILE)).then(
    () => new Error('the schema was registered'),
    (failure: unknown) => failure,
  );
  return { error, code: connectionFailure(error)?.code };
}

describe('reaching the schema registry: credentials and a private CA', () => {
  it('registers through https with basic authentication, the same id as the registry gives directly', async () => {
    const { url, credentials } = await securedBy();
    const topic = uniqueName('secured');
    const id = await registerValueSchema(createRegistry(url, { auth: credentials, ca: certificates.ca }), topic, WEBHOOK_EVENT_SCHEMA_FILE);
    expect(await registerValueSchema(createRegistry(serviceEndpoints().schemaRegistryUrl), topic, WEBHOOK_EVENT_SCHEMA_FILE)).toBe(id);
  });

  it.each<[string, string, () => Promise<RegistryConnection>]>([
    ['no credentials', 'registry_unauthorized', async () => ({ url: (await securedBy()).url, ca: certificates.ca })],
    ['a wrong password', 'registry_unauthorized', async () => {
      const { url, credentials } = await securedBy();
      return { url, ca: certificates.ca, auth: { username: credentials.username, password: 'wrong' } };
    }],
    ['no CA for a private one', 'registry_certificate_untrusted', async () => {
      const { url, credentials } = await securedBy();
      return { url, auth: credentials };
    }],
    ['a certificate for another name', 'registry_certificate_name_mismatch', async () => {
      const { url, credentials } = await securedBy(certificates.wrongName);
      return { url, ca: certificates.ca, auth: credentials };
    }],
    ['an http:// URL for an https registry', 'registry_expects_tls', async () => ({ url: (await securedBy()).url.replace('https:', 'http:') })],
    ['an https:// URL for a plain http registry', 'registry_expects_plaintext', async () => ({ url: serviceEndpoints().schemaRegistryUrl.replace('http:', 'https:') })],
  ])('%s: %s', async (_name, code, connection) => {
    expect((await registering(await connection())).code).toBe(code);
  });

  it('leaves a registry that is merely down to be waited for', async () => {
    const { error, code } = await registering({ url: `http://127.0.0.1:${await freePort()}/apis/ccompat/v7` });
    expect(code).toBeUndefined();
    expect(error).toEqual(expect.objectContaining({ name: 'ResponseError', status: 400 }));
  });
});
