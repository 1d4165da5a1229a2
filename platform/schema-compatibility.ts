import forge, { type Client, type Middleware, type Response } from 'mappersmith';
import BasicAuth from 'mappersmith/middleware/basic-auth';
import Retry from 'mappersmith/middleware/retry/v2';
import { registryClientArgs, SUBJECT_COMPATIBILITY, type RegistryOptions } from './schema-registry';

/** What the registry says of registering a schema under a subject, before it is registered. */
export type CompatibilityVerdict =
  | { readonly subject: string; readonly verdict: 'compatible' }
  | { readonly subject: string; readonly verdict: 'incompatible'; readonly reasons: readonly string[] }
  /** The subject has no version: the first registration is checked against nothing. */
  | { readonly subject: string; readonly verdict: 'unregistered' }
  /** The subject is set to another rule than SUBJECT_COMPATIBILITY: the services refuse to register under it. */
  | { readonly subject: string; readonly verdict: 'misconfigured'; readonly level: string };

const RESOURCES = {
  Subject: {
    config: { method: 'get', path: '/config/{subject}' },
    latestVersion: { method: 'get', path: '/subjects/{subject}/versions/latest' },
    compatible: { method: 'post', path: '/compatibility/subjects/{subject}/versions/latest', params: { verbose: true } },
  },
};

export type CompatibilityApi = Client<typeof RESOURCES>;

/** The Confluent API's error code for "subject not found", which Apicurio's ccompat API answers too. */
const SUBJECT_NOT_FOUND = 40401;

/** Reasons the registry gives are its own text: kept to a size a terminal can show. */
const MAX_REASONS = 20;
const MAX_REASON_CHARS = 500;

const CONFLUENT_JSON = 'application/vnd.schemaregistry.v1+json';

/** JSON bodies both ways; mappersmith parses an answer only when it is labelled application/json. */
const confluentJson: Middleware = () => ({
  request: (request) => request.enhance({ headers: { 'content-type': CONFLUENT_JSON, accept: CONFLUENT_JSON }, ...(request.body() !== undefined && { body: JSON.stringify(request.body()) }) }),
  response: (next) => {
    const asJson = (response: Response): Response => response.enhance({ headers: { 'content-type': 'application/json' } });
    return next().then(asJson, (response: Response) => {
      throw asJson(response);
    });
  },
});

/**
 * A client for the three requests of a compatibility check, with the deadlines, retries,
 * credentials and CA of the services' registry client (registryClientArgs). Not the library's
 * own client: that one turns every error answer into a ResponseError without its body, and
 * only the body's error code tells a subject without versions (40401) from a URL that leads to
 * no registry's API, which must never read as "nothing registered yet".
 */
export function createCompatibilityApi(url: string, options: RegistryOptions = {}): CompatibilityApi {
  const { host, retry, middlewares = [], auth, agent } = registryClientArgs(url, options);
  return forge({
    clientId: 'trade-webhooks-schemas-check',
    host,
    ignoreGlobalMiddleware: true,
    middleware: [confluentJson, Retry(retry), ...(auth ? [BasicAuth(auth)] : []), ...middlewares],
    ...(agent && { gatewayConfigs: { HTTP: { configure: () => ({ agent }) } } }),
    resources: RESOURCES,
  });
}

function isResponse(value: unknown): value is Response {
  return typeof (value as Partial<Response> | null)?.status === 'function';
}

/** A failed request as an Error a person can act on: mappersmith rejects with the Response. */
function failure(subject: string, error: unknown): unknown {
  if (!isResponse(error)) return error;
  // mappersmith reports a request that got no answer (refused, reset, a TLS failure) with the socket's error.
  const socketError = error.error();
  if (socketError) return new Error(`no answer from the schema registry about ${subject}: ${socketError.message}`, { cause: socketError });
  const data = error.data() as { message?: unknown } | string | undefined;
  const detail =
    typeof data === 'object' && data !== null && typeof data.message === 'string'
      ? data.message.slice(0, MAX_REASON_CHARS)
      : error.status() === 404
        ? "SCHEMA_REGISTRY_URL does not lead to a registry's API (check its path, such as /apis/ccompat/v7 for Apicurio)"
        : '';
  return new Error(`the schema registry answered ${error.status()} about ${subject}${detail && `: ${detail}`}`);
}

function isSubjectNotFound(error: unknown): boolean {
  return isResponse(error) && error.status() === 404 && (error.data() as { error_code?: unknown } | undefined)?.error_code === SUBJECT_NOT_FOUND;
}

function reasonsIn(messages: unknown): string[] {
  if (!Array.isArray(messages)) return [];
  return messages.slice(0, MAX_REASONS).map((message) => String(message).slice(0, MAX_REASON_CHARS));
}

/** The subject's own compatibility rule, or undefined when it has none (a 404: the library sets ours on first registering). */
async function subjectLevel(api: CompatibilityApi, subject: string): Promise<string | undefined> {
  try {
    const { compatibilityLevel } = ((await api.Subject.config({ subject })).data() ?? {}) as { compatibilityLevel?: unknown };
    return typeof compatibilityLevel === 'string' ? compatibilityLevel.toUpperCase() : undefined;
  } catch (error) {
    if (isResponse(error) && error.status() === 404) return undefined;
    throw failure(subject, error);
  }
}

/**
 * Asks the registry whether `schema` (Avro JSON text) may be registered under `subject` as the
 * services register it, without registering it. The subject's rule comes first: under any other
 * than SUBJECT_COMPATIBILITY the library refuses to register at all. Then the Confluent API's
 * `POST /compatibility/subjects/{subject}/versions/latest`, for a subject that has a version:
 * Apicurio answers "compatible" for one without, where Confluent answers 404. Reasons come with
 * `verbose=true` from a Confluent registry; Apicurio gives none.
 */
export async function checkCompatibility(api: CompatibilityApi, subject: string, schema: string): Promise<CompatibilityVerdict> {
  const level = await subjectLevel(api, subject);
  if (level !== undefined && level !== SUBJECT_COMPATIBILITY) return { subject, verdict: 'misconfigured', level };
  try {
    await api.Subject.latestVersion({ subject });
  } catch (error) {
    if (isSubjectNotFound(error)) return { subject, verdict: 'unregistered' };
    throw failure(subject, error);
  }
  let answer: { is_compatible?: unknown; messages?: unknown };
  try {
    answer = ((await api.Subject.compatible({ subject, body: { schema } })).data() ?? {}) as typeof answer;
  } catch (error) {
    throw failure(subject, error);
  }
  if (typeof answer.is_compatible !== 'boolean') {
    throw new Error(`the schema registry's answer about ${subject} has no is_compatible: is SCHEMA_REGISTRY_URL a Confluent-compatible API?`);
  }
  return answer.is_compatible ? { subject, verdict: 'compatible' } : { subject, verdict: 'incompatible', reasons: reasonsIn(answer.messages) };
}
