import { Agent } from 'node:https';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistryAPIClientArgs } from '@kafkajs/confluent-schema-registry/dist/api';
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

export interface RegistryOptions {
  /** How long a request may go without a byte from the registry (default 5 s). */
  readonly timeoutMs?: number;
  /** HTTP basic credentials, sent with every request. */
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * PEM certificates to trust for an https registry instead of Node's trusted CAs: a private CA.
   * The registry's name is checked against its certificate all the same.
   */
  readonly ca?: string | Buffer;
}

/**
 * The compatibility rule of every subject the services register. The library sets it on a
 * subject it registers first and refuses to register under a subject set to another
 * (`registry_misconfigured`); the schema history tests check what it promises.
 */
export const SUBJECT_COMPATIBILITY = COMPATIBILITY.BACKWARD;

/** The TopicNameStrategy subject of a topic's values. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/**
 * How every client of ours reaches the registry. It sets no deadline of its own, so each
 * request gets one: `timeoutMs` (5 s by default) without a byte from the registry. A request
 * that timed out or got a 5xx is sent again up to three times with backoff, whatever its
 * method: every call we make (schema by id, config, register, a compatibility check) is
 * idempotent — registering a schema again returns the same id — and one stalled request must
 * not fail a service's start or a batch. Anything else (a 401, a certificate the CA does not
 * vouch for) fails at once.
 *
 * The library merges `retry` into one object shared by every client it makes, so these
 * options must be the same for every client: they are constants here.
 */
export function registryClientArgs(url: string, options: RegistryOptions = {}): SchemaRegistryAPIClientArgs {
  // The library hands the agent to every request; an https agent on an http URL fails each one.
  if (options.ca !== undefined && new URL(url).protocol !== 'https:') {
    throw new TypeError(`a CA for the schema registry needs an https:// URL, got ${new URL(url).protocol}//`);
  }
  return {
    host: url,
    retry: REGISTRY_RETRY,
    middlewares: [Timeout(options.timeoutMs ?? 5_000)],
    ...(options.auth ? { auth: { username: options.auth.username, password: options.auth.password } } : {}),
    // An https registry gets an agent of its own that always checks the certificate (against the
    // CA given, else the system's), also under NODE_TLS_REJECT_UNAUTHORIZED=0: the credentials
    // must never go to a server that could not prove its name. Keep-alive, as the global agent.
    ...(new URL(url).protocol === 'https:' ? { agent: new Agent({ ...(options.ca !== undefined && { ca: options.ca }), rejectUnauthorized: true, keepAlive: true }) } : {}),
  };
}

/**
 * The registry client (see registryClientArgs for its deadlines and retries).
 *
 * Every Avro `long` is read and written exactly (schemas/exact-long.ts): ids are bigints, and a
 * double would round those above 2^53 or refuse to encode them.
 */
export function createRegistry(url: string, options: RegistryOptions = {}): SchemaRegistry {
  return new SchemaRegistry(registryClientArgs(url, options), { [SchemaType.AVRO]: { typeHook: exactLongHook } });
}

/**
 * The registry answered 404 to registering a schema. A registry's API never does (registering
 * creates the subject), so the URL leads somewhere else: a wrong path, another service. Waiting
 * cannot fix it; a 404 for a schema id, which a registry does answer, stays a ResponseError.
 */
export class RegistryNotFound extends Error {
  override readonly name = 'RegistryNotFound';
  constructor(subject: string, options: { cause: unknown }) {
    super(
      `the schema registry answered 404 to registering the schema of ${subject}: SCHEMA_REGISTRY_URL does not lead to a registry's API (check its path, such as /apis/ccompat/v7 for Apicurio)`,
      options,
    );
  }
}

/**
 * Registers an `.avsc` file under the TopicNameStrategy subject `<topic>-value` and returns its
 * id. Registering the same schema again returns the same id, so every instance can do it at start.
 */
export async function registerValueSchema(registry: SchemaRegistry, topic: string, schemaFile: string): Promise<number> {
  const subject = valueSubject(topic);
  try {
    const schema = { type: SchemaType.AVRO as const, schema: JSON.stringify(readAvroSchema(schemaFile)) };
    const { id } = await registry.register(schema, { subject, compatibility: SUBJECT_COMPATIBILITY });
    return id;
  } catch (error) {
    // @kafkajs/confluent-schema-registry does not export its ResponseError class.
    const { name, status } = (error ?? {}) as { name?: unknown; status?: unknown };
    if (name === 'ResponseError' && status === 404) throw new RegistryNotFound(subject, { cause: error });
    throw error;
  }
}
