import { Agent } from 'node:https';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import Timeout from 'mappersmith/middleware/timeout';
import { isTimeoutError } from 'mappersmith/gateway/timeout-error';
import type { Response } from 'mappersmith';
import { readAvroSchema } from '../schemas/avro-schemas';
import { exactLongHook } from '../schemas/exact-long';

/** A 5xx or a timeout; anything that is not a mappersmith Response (it should not happen) is not retried. */
function worthRetrying(response: Response): boolean {
  if (typeof response?.status !== 'function') return false;
  const error = response.error();
  return response.status() >= 500 || (error !== null && isTimeoutError(error));
}

const REGISTRY_RETRY = Object.freeze({ retries: 3, validateRetry: worthRetrying, enableRetry: () => true });

/**
 * The registry client. It sets no deadline of its own, so each request gets one: `timeoutMs`
 * (5 s by default) without a byte from the registry. A request that timed out or got a 5xx is
 * sent again up to three times with backoff, whatever its method: every call we make (schema
 * by id, config, register) is idempotent — registering a schema again returns the same id — and
 * one stalled request must not fail a service's start or a batch.
 *
 * The library merges `retry` into one object shared by every client it makes, so these
 * options must be the same for every client: they are constants here.
 *
 * Every Avro `long` is read and written exactly (schemas/exact-long.ts): ids are bigints, and a
 * double would round those above 2^53 or refuse to encode them.
 *
 * `auth` is sent as HTTP basic authentication; `ca` (PEM) is trusted instead of Node's CAs for
 * an https registry, through an agent of this client's own.
 */
export function createRegistry(
  url: string,
  options: { timeoutMs?: number; auth?: { readonly username: string; readonly password: string }; ca?: string | Buffer } = {},
): SchemaRegistry {
  return new SchemaRegistry(
    {
      host: url,
      retry: REGISTRY_RETRY,
      ...(options.auth && { auth: { username: options.auth.username, password: options.auth.password } }),
      ...(options.ca && { agent: new Agent({ ca: options.ca, keepAlive: true }) }),
      middlewares: [Timeout(options.timeoutMs ?? 5_000)],
    },
    { [SchemaType.AVRO]: { typeHook: exactLongHook } },
  );
}

/**
 * Registers an `.avsc` file under the TopicNameStrategy subject `<topic>-value` and returns its
 * id. Registering the same schema again returns the same id, so every instance can do it at start.
 */
export async function registerValueSchema(registry: SchemaRegistry, topic: string, schemaFile: string): Promise<number> {
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(readAvroSchema(schemaFile)) },
    { subject: `${topic}-value` },
  );
  return id;
}
