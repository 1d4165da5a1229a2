import { request as httpRequest, type Agent, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { registryClientArgs, SUBJECT_COMPATIBILITY, type RegistryOptions } from './schema-registry';

/** What the registry says of registering a schema under a subject, before it is registered. */
export type CompatibilityVerdict =
  | { readonly subject: string; readonly verdict: 'compatible' }
  | { readonly subject: string; readonly verdict: 'incompatible'; readonly reasons: readonly string[] }
  /** The subject has no version: the first registration is checked against nothing. */
  | { readonly subject: string; readonly verdict: 'unregistered' }
  /** The subject is set to another rule than SUBJECT_COMPATIBILITY: the services refuse to register under it. */
  | { readonly subject: string; readonly verdict: 'misconfigured'; readonly level: string };

/** The services' registry options but their idle timeout, which the deadline replaces. */
export interface CompatibilityApiOptions extends Omit<RegistryOptions, 'timeoutMs'> {
  /** How long one request may take from sending to the last byte of its answer, retries included (default 10 s). */
  readonly deadlineMs?: number;
  /** The largest answer body read (default 1 MiB): a registry's answers to these requests are a few kB. */
  readonly maxAnswerBytes?: number;
}

/** An answer with a 2xx or 4xx status; anything else has been turned into an Error already. */
interface Answer {
  readonly status: number;
  /** The body parsed as JSON, or its text when it is not JSON. */
  readonly data: unknown;
}

/** The read-only requests of a compatibility check, each bounded in time and size (see createCompatibilityApi). */
export interface CompatibilityApi {
  send(method: 'GET' | 'POST', path: string, about: string, body?: unknown): Promise<Answer>;
}

/** The Confluent API's error code for "subject not found", which Apicurio's ccompat API answers too. */
const SUBJECT_NOT_FOUND = 40401;

/** Reasons the registry gives are its own text: kept to a size a terminal can show. */
const MAX_REASONS = 20;
const MAX_REASON_CHARS = 500;

/** A 5xx is asked again after these pauses, within the request's deadline, as the services' client does. */
const RETRY_PAUSES_MS = [200, 400, 800];

const CONFLUENT_JSON = 'application/vnd.schemaregistry.v1+json';

const KNOWN_LEVELS: ReadonlySet<string> = new Set(Object.values(COMPATIBILITY));

/** A request that got no answer (refused, reset, a TLS failure), with the socket's error. */
function unanswered(about: string, cause: Error): Error {
  return new Error(`no answer from the schema registry about ${about}: ${cause.message}`, { cause });
}

/**
 * A client for the requests of a compatibility check, with the credentials and CA of the
 * services' registry client (registryClientArgs). Not that client: it reads every answer whole,
 * however long it trickles and however large it is, takes a 3xx with a JSON body for the
 * answer, and hides the body of an error answer, where only its error code tells a subject
 * without versions (40401) from a URL that leads to no registry's API. Here each request has
 * one deadline from sending to the last byte, an answer larger than `maxAnswerBytes` is
 * dropped unread, and a redirect is a failure, never followed.
 */
export function createCompatibilityApi(url: string, options: CompatibilityApiOptions = {}): CompatibilityApi {
  const { auth, agent } = registryClientArgs(url, options);
  const deadlineMs = options.deadlineMs ?? 10_000;
  const maxAnswerBytes = options.maxAnswerBytes ?? 1024 * 1024;
  const base = new URL(url);
  const request = base.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = {
    accept: CONFLUENT_JSON,
    ...(auth && { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }),
  };

  function once(method: string, path: string, about: string, body: string | undefined, deadline: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const target = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base);
      let outgoing: ClientRequest | undefined;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outgoing?.destroy();
        outcome();
      };
      const timer = setTimeout(
        () => settle(() => reject(new Error(`no complete answer from the schema registry about ${about} within ${deadlineMs / 1000} s`))),
        Math.max(0, deadline - Date.now()),
      );
      const tooLarge = (): Error => new Error(`the schema registry's answer about ${about} is larger than ${maxAnswerBytes} bytes: dropped unread`);
      const receive = (incoming: IncomingMessage): void => {
        const status = incoming.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          settle(() => reject(new Error(`the schema registry answered ${status} about ${about}: a redirect, which is not followed (set SCHEMA_REGISTRY_URL to the address the registry answers at)`)));
          return;
        }
        if (Number(incoming.headers['content-length']) > maxAnswerBytes) {
          settle(() => reject(tooLarge()));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxAnswerBytes) settle(() => reject(tooLarge()));
          else chunks.push(chunk);
        });
        incoming.on('error', (error) => settle(() => reject(unanswered(about, error))));
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let data: unknown = text;
          try {
            data = JSON.parse(text);
          } catch {
            // Not JSON: the text stays, for the status to be reported with.
          }
          settle(() => resolve({ status, data }));
        });
      };
      outgoing = request(
        target,
        { method, headers: { ...headers, ...(body !== undefined && { 'content-type': CONFLUENT_JSON, 'content-length': Buffer.byteLength(body) }) }, ...(agent && { agent: agent as Agent }) },
        receive,
      );
      outgoing.on('error', (error) => settle(() => reject(unanswered(about, error))));
      outgoing.end(body);
    });
  }

  return {
    async send(method, path, about, body) {
      const deadline = Date.now() + deadlineMs;
      const text = body === undefined ? undefined : JSON.stringify(body);
      for (const pause of [...RETRY_PAUSES_MS, undefined]) {
        const answer = await once(method, path, about, text, deadline);
        if (answer.status >= 200 && answer.status < 300) return answer;
        if (answer.status < 500 || pause === undefined || Date.now() + pause >= deadline) return failed(answer, about);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
      throw new Error('unreachable: the last pause is undefined');
    },
  };
}

/** A 4xx or 5xx answer: a 404 with its error code is returned for the caller to read, the rest is an Error a person can act on. */
function failed(answer: Answer, about: string): Answer {
  if (answer.status === 404) return answer;
  throw statusError(answer, about);
}

function statusError(answer: Answer, about: string): Error {
  const { data, status } = answer;
  const message = typeof data === 'object' && data !== null ? (data as { message?: unknown }).message : undefined;
  const detail =
    typeof message === 'string'
      ? message.slice(0, MAX_REASON_CHARS)
      : status === 404
        ? "SCHEMA_REGISTRY_URL does not lead to a registry's API (check its path, such as /apis/ccompat/v7 for Apicurio)"
        : '';
  return new Error(`the schema registry answered ${status} about ${about}${detail && `: ${detail}`}`);
}

function isSubjectNotFound(answer: Answer): boolean {
  return answer.status === 404 && (answer.data as { error_code?: unknown } | undefined)?.error_code === SUBJECT_NOT_FOUND;
}

/** An answer that is not what a Confluent-compatible registry sends: a proxy, a stub, another service. */
function unexpected(about: string, what: string): Error {
  return new Error(`the schema registry's answer about ${about} ${what}: is SCHEMA_REGISTRY_URL a Confluent-compatible API?`);
}

function field(data: unknown, name: string): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[name] : undefined;
}

function reasonsIn(messages: unknown): string[] {
  if (!Array.isArray(messages)) return [];
  return messages.slice(0, MAX_REASONS).map((message) => String(message).slice(0, MAX_REASON_CHARS));
}

const path = (template: string, subject: string): string => template.replace('{subject}', encodeURIComponent(subject));

/** The subject's own compatibility rule, or undefined when it has none (a 404: the library sets ours on first registering). */
async function subjectLevel(api: CompatibilityApi, subject: string): Promise<string | undefined> {
  const answer = await api.send('GET', path('/config/{subject}', subject), subject);
  if (answer.status === 404) return undefined;
  const level = field(answer.data, 'compatibilityLevel');
  if (typeof level !== 'string' || !KNOWN_LEVELS.has(level.toUpperCase())) throw unexpected(`${subject}'s configuration`, 'has no known compatibilityLevel');
  return level.toUpperCase();
}

/**
 * Asks the registry whether `schema` (Avro JSON text) may be registered under `subject` as the
 * services register it, without registering it. The subject's rule comes first: under any other
 * than SUBJECT_COMPATIBILITY the library refuses to register at all. Then the Confluent API's
 * `POST /compatibility/subjects/{subject}/versions/latest`, for a subject that has a version:
 * Apicurio answers "compatible" for one without, where Confluent answers 404. Reasons come with
 * `verbose=true` from a Confluent registry; Apicurio gives none. Each answer must have the
 * fields a registry's has, so that a stub answering `{}` to everything is an error, not a pass.
 */
export async function checkCompatibility(api: CompatibilityApi, subject: string, schema: string): Promise<CompatibilityVerdict> {
  const level = await subjectLevel(api, subject);
  if (level !== undefined && level !== SUBJECT_COMPATIBILITY) return { subject, verdict: 'misconfigured', level };
  const latest = await api.send('GET', path('/subjects/{subject}/versions/latest', subject), subject);
  if (isSubjectNotFound(latest)) return { subject, verdict: 'unregistered' };
  if (latest.status === 404) throw statusError(latest, subject);
  const missing = [
    ...['version', 'id'].filter((name) => typeof field(latest.data, name) !== 'number'),
    ...(typeof field(latest.data, 'schema') === 'string' ? [] : ['schema']),
  ];
  if (missing.length > 0) throw unexpected(`${subject}'s latest version`, `has no ${missing.join(', ')}`);
  const answer = await api.send('POST', `${path('/compatibility/subjects/{subject}/versions/latest', subject)}?verbose=true`, subject, { schema });
  if (answer.status === 404) throw statusError(answer, subject);
  const isCompatible = field(answer.data, 'is_compatible');
  if (typeof isCompatible !== 'boolean') throw unexpected(subject, 'has no is_compatible');
  return isCompatible ? { subject, verdict: 'compatible' } : { subject, verdict: 'incompatible', reasons: reasonsIn(field(answer.data, 'messages')) };
}

/** How many subject names the registry's list is cut to: enough to spot a typo, not a screenful of tests. */
const MAX_LISTED_SUBJECTS = 20;

/**
 * The registry's `-value` subjects, the first MAX_LISTED_SUBJECTS of them, and how many there
 * are: shown when a subject has no version, so that a misspelt topic is seen for one.
 */
export async function valueSubjects(api: CompatibilityApi): Promise<{ readonly names: readonly string[]; readonly total: number }> {
  const answer = await api.send('GET', '/subjects', 'its subjects');
  if (answer.status === 404) throw statusError(answer, 'its subjects');
  if (!Array.isArray(answer.data)) throw unexpected('its subjects', 'is not a list');
  const all = answer.data.filter((name): name is string => typeof name === 'string' && name.endsWith('-value'));
  // The registry's text goes to a terminal: no control characters.
  const shown = all.slice(0, MAX_LISTED_SUBJECTS).map((name) => name.slice(0, MAX_REASON_CHARS).replace(/[\u0000-\u001f\u007f]/g, '?'));
  return { names: shown, total: all.length };
}
