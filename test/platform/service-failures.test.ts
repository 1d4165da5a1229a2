import { createServer } from 'node:http';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, type KafkaJSProtocolError } from 'kafkajs';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { ConnectionProblem } from '../../platform/connection-failures';
import { createKafka } from '../../platform/kafka';
import { createLogger } from '../../platform/logger';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { classifyServiceFailure, SERVICE_FAILURES, startupFailure, type ServiceFailureCode } from '../../platform/service-failures';
import { ensureTopics } from '../../platform/topics';
import { FAILURE_TABLE } from '../../processor/errors';
import { freePort } from '../../scripts/harness/free-port';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin } from '../support/kafka';
import { uniqueName } from '../support/names';

// kafkajs's own table of broker error codes, with their `retriable` flags.
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): KafkaJSProtocolError };

/** What `work` rejects with; it must reject. */
async function rejection(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** A registry URL served by an HTTP server that answers every request with `status` and `body`. */
async function registryAnswering(status: number, body: unknown): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const register = (url: string, file = WEBHOOK_EVENT_SCHEMA_FILE) => rejection(registerValueSchema(createRegistry(url, { timeoutMs: 2000 }), uniqueName('failures'), file));

/** Creating a topic whose name collides with an existing one ('.' and '_' are the same in Kafka's metrics). */
async function collidingTopic(): Promise<unknown> {
  const existing = await createTestTopic(await testAdmin(), { prefix: 'collide.a' });
  const kafka = createKafka({ clientId: 'tests', brokers: serviceEndpoints().kafkaBrokers, logger: createLogger({ level: 'silent', name: 'test' }) });
  return rejection(ensureTopics(kafka, [{ topic: existing.replace('collide.a', 'collide_a'), partitions: 1 }]));
}

describe('the failures both services share, at start', () => {
  const rows: Array<[string, () => unknown, ServiceFailureCode]> = [
    ['a broker nobody listens on', async () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1'), { retryCount: 0, retryTime: 100 }), 'broker_unavailable'],
    ['a partition without a leader yet', () => createErrorFromCode(5), 'broker_unavailable'],
    ['a registry nobody listens on', async () => register(`http://127.0.0.1:${await freePort()}`), 'registry_unreachable'],
    ['a registry being restarted (503)', async () => register(await registryAnswering(503, { error_code: 50301, message: 'restarting' })), 'registry_unavailable'],
    ['a registry URL whose path leads nowhere (404 on registering)', () => register(`${new URL(serviceEndpoints().schemaRegistryUrl).origin}/wrong/apis/ccompat/v7`), 'registry_misconfigured'],
    ['another service answering 200 with junk (a TypeError in the registry client)', async () => register(await registryAnswering(200, {})), 'programmer_error'],
    ['a topic name the broker refuses (INVALID_TOPIC_EXCEPTION)', collidingTopic, 'broker_refused'],
    ['a schema file that is not there (ENOENT)', () => register(serviceEndpoints().schemaRegistryUrl, 'no-such-schema.avsc'), 'unknown'],
    ['a broker certificate of an unknown CA', () => new ConnectionProblem('broker_certificate_untrusted', 'kafka:9093', { cause: undefined }), 'broker_certificate_untrusted'],
    ['a registry refusing the credentials (401)', async () => register(await registryAnswering(401, { error_code: 40101, message: 'Unauthorized' })), 'registry_unauthorized'],
  ];

  it.each(rows)('%s is %s', async (_name, make, code) => {
    const error = await make();
    expect(classifyServiceFailure(error)).toBe(code);
    expect(startupFailure(error)).toEqual({ code, retriable: SERVICE_FAILURES[code].retriable });
  });

  it('waits out only what goes away by itself', () => {
    const retriable = (Object.keys(SERVICE_FAILURES) as ServiceFailureCode[]).filter((code) => SERVICE_FAILURES[code].retriable);
    expect(retriable).toEqual(['network_error', 'schema_unknown', 'registry_unavailable', 'registry_throttled', 'registry_timeout', 'registry_unreachable', 'broker_unavailable']);
  });

  it("is the processor's table for every code they share: one authority on what waiting can fix", () => {
    for (const code of Object.keys(SERVICE_FAILURES) as ServiceFailureCode[]) {
      expect([code, FAILURE_TABLE[code].retriable]).toEqual([code, SERVICE_FAILURES[code].retriable]);
    }
  });
});
