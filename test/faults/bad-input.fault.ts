import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { relworxSignatureHeader, signPayload, signRelworx, signStandardWebhook } from '../../sender';
import { webhookByName, type WebhookDefinition } from '../../schemas/webhook-catalog';
import { serviceEndpoints } from '../setup/service-endpoints';
import { testAdmin } from '../support/kafka';
import { uniqueName } from '../support/names';
import { freePort } from '../support/free-port';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { serviceProcess, type ServiceProcess } from '../support/service-process';
import { FAULT_SEED } from './seeded-random';

const MAX_BODY = 65_536;

/** An answer as DESIGN.md's response table and receiver/openapi.yaml document it: written out here, not taken from the receiver. */
interface Answer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

const INVALID_SIGNATURE: Answer = { status: 401, body: { success: false, error: 'Invalid signature' } };
const INVALID_JSON: Answer = { status: 400, body: { success: false, error: 'Invalid JSON' } };
const INVALID_STATUS: Answer = { status: 400, body: { success: false, error: 'Invalid status' } };
const INVALID_WEBHOOK_TYPE: Answer = { status: 400, body: { success: false, error: 'Invalid webhook_type' } };
const PAYLOAD_TOO_LARGE: Answer = { status: 413, body: { success: false, error: 'Payload too large' } };
const UNSUPPORTED_MEDIA_TYPE: Answer = { status: 415, body: { success: false, error: 'Content-Type must be application/json' } };
const METHOD_NOT_ALLOWED: Answer = { status: 405, body: { success: false, error: 'Method not allowed' } };
const NOT_FOUND: Answer = { status: 404, body: { success: false, error: 'Not found' } };
const missingFields = (field: string): Answer => ({ status: 400, body: { success: false, error: 'Missing required fields', fields: [field] } });

interface Case {
  /** What kind of defect: every kind must come up in a run. */
  readonly kind: string;
  readonly endpoint: string;
  /** The defect itself, for the failure message. */
  readonly detail: string;
  readonly method: string;
  readonly path: string;
  readonly body: Buffer;
  /** Raw header pairs, so a header can be sent twice. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly expect: Answer;
}

type FieldKind = 'id' | 'status' | 'string' | 'amount' | 'timestamp' | 'object' | 'webhook_type';

interface FieldRule {
  readonly kind: FieldKind;
  /** Missing (or null) is refused: required, or required by the body's status. */
  readonly required: boolean;
  /** One of the three fields Relworx signs: without a string there, there is no valid signature. */
  readonly signed?: boolean;
}

/** One endpoint: a valid body as raw JSON text per field, and what each field must be. */
interface Endpoint {
  readonly definition: WebhookDefinition;
  readonly secret: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly rules: Readonly<Record<string, FieldRule>>;
  readonly statuses: readonly string[];
}

const TIMESTAMP = '"2026-01-01T00:00:00Z"';
const optional = (kind: FieldKind): FieldRule => ({ kind, required: false });
const required = (kind: FieldKind): FieldRule => ({ kind, required: true });

const ENDPOINTS: readonly Endpoint[] = [
  {
    definition: webhookByName('buy-complete')!,
    secret: TEST_SECRETS.BUY_WEBHOOK_SECRET,
    fields: { trade_id: '42', status: '"completed"', transaction_hash: '"0xabc"', crypto_amount: '0.001', timestamp: TIMESTAMP, webhook_type: '"buy_completion"' },
    // transaction_hash: required because the body's status is `completed`.
    rules: { trade_id: required('id'), status: required('status'), transaction_hash: required('string'), crypto_amount: optional('amount'), timestamp: optional('timestamp'), webhook_type: optional('webhook_type') },
    statuses: ['completed', 'failed'],
  },
  {
    definition: webhookByName('sell-complete')!,
    secret: TEST_SECRETS.SELL_WEBHOOK_SECRET,
    fields: { trade_id: '42', status: '"completed"', payment_reference: '"PAY-42"', fiat_amount: '100.5', timestamp: TIMESTAMP, webhook_type: '"sell_completion"' },
    rules: { trade_id: required('id'), status: required('status'), payment_reference: required('string'), fiat_amount: optional('amount'), timestamp: optional('timestamp'), webhook_type: optional('webhook_type') },
    statuses: ['completed', 'failed'],
  },
  {
    definition: webhookByName('trade-status')!,
    secret: TEST_SECRETS.TRADE_WEBHOOK_SECRET,
    fields: { trade_id: '42', status: '"processing"', metadata: '{"stage":"crypto_transfer"}', timestamp: TIMESTAMP, webhook_type: '"trade_status"' },
    rules: { trade_id: required('id'), status: required('status'), metadata: optional('object'), timestamp: optional('timestamp'), webhook_type: optional('webhook_type') },
    statuses: ['pending', 'processing', 'completed', 'failed', 'cancelled'],
  },
  {
    definition: webhookByName('relworx')!,
    secret: TEST_SECRETS.RELWORX_WEBHOOK_SECRET,
    fields: {
      status: '"success"',
      customer_reference: '"FAULT-42"',
      internal_reference: '"RWX-42"',
      msisdn: '"256700000000"',
      amount: '350000',
      currency: '"UGX"',
      provider: '"MTN_UGANDA"',
      charge: '0',
      message: '"Payment received"',
      completed_at: TIMESTAMP,
      webhook_type: '"relworx_payment"',
    },
    rules: {
      status: { kind: 'status', required: true, signed: true },
      customer_reference: { kind: 'string', required: true, signed: true },
      internal_reference: { kind: 'string', required: true, signed: true },
      msisdn: optional('string'),
      amount: optional('amount'),
      currency: optional('string'),
      provider: optional('string'),
      charge: optional('amount'),
      message: optional('string'),
      completed_at: optional('string'),
      webhook_type: optional('webhook_type'),
    },
    statuses: ['success', 'failed'],
  },
];

const RELWORX = ENDPOINTS[3]!;
const now = (): number => Math.floor(Date.now() / 1000);

/** A body of `endpoint` with one field replaced by raw JSON text, or left out (undefined). */
function bodyWith(endpoint: Endpoint, field?: string, raw?: string): Buffer {
  const fields: Record<string, string> = { ...endpoint.fields };
  if (field !== undefined && raw === undefined) delete fields[field];
  else if (field !== undefined) fields[field] = raw!;
  return Buffer.from(`{${Object.entries(fields).map(([name, value]) => `"${name}":${value}`).join(',')}}`);
}

const validBody = (endpoint: Endpoint): Buffer => bodyWith(endpoint);

/** `Relworx-Signature` over the body's signed fields as JSON.parse reads them (anything else signed as empty). */
function relworxHeader(body: Buffer, options: { secret?: string; callbackUrl?: string; timestamp?: number } = {}): string {
  const fields = { customer_reference: '', internal_reference: '', status: '' };
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    for (const key of Object.keys(fields) as Array<keyof typeof fields>) if (typeof parsed[key] === 'string') fields[key] = parsed[key] as string;
  } catch {
    // Not JSON: signed as empty fields; the receiver cannot read the body's fields either.
  }
  const timestamp = options.timestamp ?? now();
  return relworxSignatureHeader(timestamp, signRelworx(options.callbackUrl ?? TEST_RELWORX_CALLBACK_URL, timestamp, fields, options.secret ?? RELWORX.secret));
}

type Scheme = 'own' | 'standard';

/** The signature headers of `body` under the endpoint's own scheme or Standard Webhooks, with the right secret. */
function signedWith(endpoint: Endpoint, scheme: Scheme, body: Buffer): Array<[string, string]> {
  if (scheme === 'standard') {
    const timestamp = now();
    return [['webhook-id', 'msg_bad_input'], ['webhook-timestamp', String(timestamp)], ['webhook-signature', signStandardWebhook('msg_bad_input', timestamp, body, endpoint.secret)]];
  }
  const value = endpoint === RELWORX ? relworxHeader(body) : signPayload(body, endpoint.secret);
  return [[endpoint.definition.signatureHeader, value]];
}

const JSON_TYPE: Array<[string, string]> = [['content-type', 'application/json']];

const endpoint = fc.constantFrom(...ENDPOINTS);
const scheme = fc.constantFrom<Scheme>('own', 'standard');
const pathOf = (target: Endpoint) => fc.constantFrom('/api/webhooks/', '/api/v1/webhooks/').map((prefix) => `${prefix}${target.definition.name}`);

const hex = (constraints: { minLength?: number; maxLength: number }) => fc.string({ ...constraints, unit: fc.constantFrom(...'0123456789abcdef'.split('')) });
// Prefixed so that no generated text can happen to be a valid value.
const jsonString = fc.string({ maxLength: 20 }).map((text) => JSON.stringify(`x${text}`));
const notAString = fc.oneof(fc.integer().map(String), fc.boolean().map(String), fc.constantFrom('{}', '[]', '[1,2]', '{"a":{"b":[]}}'));
const notANumber = fc.oneof(jsonString, fc.boolean().map(String), fc.constantFrom('{}', '[1,2]', '{"a":{"b":[]}}'));

/** Values a field of each kind refuses as "Missing required fields" (null counts as missing where the field is required). */
const WRONG: Record<Exclude<FieldKind, 'status' | 'webhook_type'>, fc.Arbitrary<string>> = {
  id: fc.oneof(
    notANumber,
    fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }).map(String),
    // Beyond any bigint, fractional, or not written as an integer.
    fc.constantFrom('1e400', '-1e400', '-0.5', '1.5', '9223372036854775808', '123456789012345678901234567890'),
  ),
  string: notAString,
  amount: fc.oneof(
    notANumber,
    fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }).map(String),
    fc.constantFrom('1e400', '-1e400', '-0.5', '-1', '123456789012345678901234567890', '0.0000000000000000000001'),
  ),
  timestamp: fc.oneof(jsonString, fc.integer().map(String), fc.boolean().map(String), fc.constantFrom('"2024-13-45T99:00:00Z"', '{}', '[]')),
  object: fc.oneof(jsonString, fc.integer().map(String), fc.boolean().map(String), fc.constantFrom('[1,2]', '[]')),
};

/**
 * One field of one endpoint wrong or missing, signed with its own scheme or Standard Webhooks.
 * Relworx signs three fields, not the bytes: through its own scheme a body whose signed fields
 * are not strings cannot carry a valid signature (401); through Standard Webhooks it is read,
 * and refused for its fields like any other (400).
 */
const fieldDefect: fc.Arbitrary<Case> = fc
  .tuple(endpoint, scheme)
  .chain(([target, signing]) =>
    fc.constantFrom(...Object.keys(target.rules)).chain((field) => {
      const rule = target.rules[field]!;
      const unsigned = rule.signed === true && signing === 'own' ? INVALID_SIGNATURE : undefined;
      const defects: Array<fc.Arbitrary<{ detail: string; raw: string | undefined; expect: Answer }>> = [];
      if (rule.required) {
        defects.push(fc.constantFrom(undefined, 'null').map((raw) => ({ detail: raw === undefined ? `${field} missing` : `${field} = null`, raw, expect: unsigned ?? missingFields(field) })));
      }
      if (rule.kind === 'status') {
        const statuses = target.statuses;
        defects.push(
          fc.string({ maxLength: 12 }).filter((status) => !statuses.includes(status)).map((status) => ({ detail: `status = ${JSON.stringify(status)}`, raw: JSON.stringify(status), expect: INVALID_STATUS })),
          notAString.map((raw) => ({ detail: `status = ${raw}`, raw, expect: unsigned ?? missingFields(field) })),
        );
      } else if (rule.kind === 'webhook_type') {
        defects.push(
          fc.string({ maxLength: 20 }).filter((type) => type !== target.definition.type).map((type) => ({ detail: `webhook_type = ${JSON.stringify(type)}`, raw: JSON.stringify(type), expect: INVALID_WEBHOOK_TYPE })),
          notAString.map((raw) => ({ detail: `webhook_type = ${raw}`, raw, expect: missingFields(field) })),
        );
      } else {
        defects.push(WRONG[rule.kind].map((raw) => ({ detail: `${field} = ${raw}`, raw, expect: unsigned ?? missingFields(field) })));
      }
      return fc.tuple(fc.oneof(...defects), pathOf(target)).map(([defect, path]): Case => {
        const body = bodyWith(target, field, defect.raw);
        return { kind: 'field defect', endpoint: target.definition.name, detail: `${defect.detail} (${signing} signature)`, method: 'POST', path, body, headers: [...JSON_TYPE, ...signedWith(target, signing, body)], expect: defect.expect };
      });
    }),
  );

/** A body that is not a JSON object: 400 Invalid JSON once signed, but 401 through Relworx's own scheme, which must read the body to verify it. */
function unreadable(kind: string, bodies: fc.Arbitrary<Buffer>): fc.Arbitrary<Case> {
  return fc.tuple(endpoint, scheme, bodies).chain(([target, signing, body]) =>
    pathOf(target).map((path): Case => ({
      kind,
      endpoint: target.definition.name,
      detail: `${signing} signature, ${body.length} bytes`,
      method: 'POST',
      path,
      body,
      headers: [...JSON_TYPE, ...signedWith(target, signing, body)],
      expect: target === RELWORX && signing === 'own' ? INVALID_SIGNATURE : INVALID_JSON,
    })),
  );
}

const isJsonObject = (text: string): boolean => {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
};

/** A valid body of a random endpoint and path, with `headers(target, body)` and the answer it must get. */
function withHeaders(kind: string, headers: (target: Endpoint, body: Buffer) => fc.Arbitrary<{ detail: string; headers: Array<[string, string]> }>, expect: Answer, endpoints = endpoint): fc.Arbitrary<Case> {
  return endpoints.chain((target) => {
    const body = validBody(target);
    return fc.tuple(headers(target, body), pathOf(target)).map(([chosen, path]): Case => ({ kind, endpoint: target.definition.name, detail: chosen.detail, method: 'POST', path, body, headers: chosen.headers, expect }));
  });
}

/** Standard Webhooks headers for `body` with one part chosen by the case; the others valid. */
function standardHeaders(target: Endpoint, body: Buffer, parts: { id?: string | null; timestamp?: string | null; signature?: string }): Array<[string, string]> {
  const id = parts.id === undefined ? 'msg_bad_input' : parts.id;
  const timestamp = parts.timestamp === undefined ? String(now()) : parts.timestamp;
  const headers: Array<[string, string]> = [...JSON_TYPE];
  if (id !== null) headers.push(['webhook-id', id]);
  if (timestamp !== null) headers.push(['webhook-timestamp', timestamp]);
  headers.push(['webhook-signature', parts.signature ?? signStandardWebhook(id ?? '', timestamp ?? '', body, target.secret)]);
  return headers;
}

/** One generator per kind of defect. */
const GENERATORS: Array<fc.Arbitrary<Case> | fc.WeightedArbitrary<Case>> = [
  { arbitrary: fieldDefect, weight: 8 },
  unreadable('arbitrary text', fc.string({ maxLength: 200 }).filter((text) => !isJsonObject(text)).map((text) => Buffer.from(text))),
  unreadable('JSON that is not an object', fc.constantFrom('[]', '[{"trade_id":42}]', '"text"', '42', 'null', 'true').map((text) => Buffer.from(text))),
  unreadable('deep nesting', fc.integer({ min: 1000, max: 20_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth)))),
  unreadable(
    'invalid UTF-8',
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"trade_id":42,"status":"'), Buffer.from([0xc3, 0x28, ...bytes.map((b) => b | 0x80)]), Buffer.from('"}')])),
  ),
  unreadable('byte-order mark', endpoint.map((target) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), validBody(target)]))),
  unreadable(
    'duplicate keys with different values',
    endpoint.map((target) => {
      const [first] = Object.keys(target.fields);
      return Buffer.from(`{"${first}":"one",${validBody(target).toString('utf8').slice(1)}`);
    }),
  ),
  endpoint.chain((target) =>
    fc.tuple(fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 4 }), pathOf(target)).map(([size, path]): Case => {
      const body = Buffer.alloc(size, 0x20);
      return { kind: 'over the size limit', endpoint: target.definition.name, detail: `${size} bytes`, method: 'POST', path, body, headers: [...JSON_TYPE, ...signedWith(target, 'own', body)], expect: PAYLOAD_TOO_LARGE };
    }),
  ),
  withHeaders(
    'content type',
    (target, body) =>
      fc.constantFrom<string | null>('text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'application/json-patch+json', 'multipart/form-data', '', null).map((type) => ({
        detail: type === null ? 'no content type' : `content type "${type}"`,
        headers: [...(type === null ? [] : [['content-type', type] as [string, string]]), ...signedWith(target, 'own', body)],
      })),
    UNSUPPORTED_MEDIA_TYPE,
  ),
  withHeaders('repeated content type', (target, body) => fc.constant({ detail: 'content-type twice', headers: [...JSON_TYPE, ...JSON_TYPE, ...signedWith(target, 'own', body)] }), UNSUPPORTED_MEDIA_TYPE),
  withHeaders('no signature', () => fc.constant({ detail: 'no signature header', headers: [...JSON_TYPE] }), INVALID_SIGNATURE),
  withHeaders(
    'malformed signature',
    (target) =>
      (target === RELWORX
        ? fc.oneof(
            fc.string({ maxLength: 80 }),
            hex({ minLength: 64, maxLength: 64 }).map((v) => `v=${v}`),
            fc.constant('t=123'),
            hex({ minLength: 64, maxLength: 64 }).map((v) => `t=abc,v=${v}`),
            hex({ maxLength: 63 }).map((v) => `t=${now()},v=${v}`),
            hex({ minLength: 64, maxLength: 64 }).map((v) => `t=${now()},x=1,v=${v}`),
          )
        : fc.oneof(hex({ maxLength: 63 }), hex({ minLength: 65, maxLength: 128 }), fc.string({ maxLength: 64 }), hex({ maxLength: 40 }).map((v) => `sha256=${v}`))
      ).map((value) => ({ detail: `${target.definition.signatureHeader}: ${value}`, headers: [...JSON_TYPE, [target.definition.signatureHeader, value] as [string, string]] })),
    INVALID_SIGNATURE,
  ),
  withHeaders(
    'signed with the wrong secret',
    (target, body) =>
      fc
        .string({ minLength: 1, maxLength: 40 })
        .filter((other) => other !== target.secret)
        .map((other) => ({
          detail: `secret "${other}"`,
          headers: [...JSON_TYPE, [target.definition.signatureHeader, target === RELWORX ? relworxHeader(body, { secret: other }) : signPayload(body, other)] as [string, string]],
        })),
    INVALID_SIGNATURE,
  ),
  withHeaders('repeated signature header', (target, body) => fc.constant({ detail: `${target.definition.signatureHeader} twice`, headers: [...JSON_TYPE, ...signedWith(target, 'own', body), ...signedWith(target, 'own', body)] }), INVALID_SIGNATURE),
  withHeaders(
    'Relworx timestamp outside tolerance',
    (_target, body) =>
      fc.oneof(fc.integer({ min: 301, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -301 })).map((offset) => ({
        detail: `t = now ${offset > 0 ? '+' : '-'} ${Math.abs(offset)} s`,
        headers: [...JSON_TYPE, ['relworx-signature', relworxHeader(body, { timestamp: now() + offset })] as [string, string]],
      })),
    INVALID_SIGNATURE,
    fc.constant(RELWORX),
  ),
  withHeaders(
    'Relworx signed for another callback URL',
    (_target, body) =>
      fc.constantFrom('http://localhost:8000/api/webhooks/relworx', `${TEST_RELWORX_CALLBACK_URL}/`, TEST_RELWORX_CALLBACK_URL.replace('/api/v1/', '/api/')).map((url) => ({
        detail: url,
        headers: [...JSON_TYPE, ['relworx-signature', relworxHeader(body, { callbackUrl: url })] as [string, string]],
      })),
    INVALID_SIGNATURE,
    fc.constant(RELWORX),
  ),
  withHeaders(
    'Standard Webhooks timestamp too old',
    (target, body) => fc.integer({ min: 301, max: 10_000_000 }).map((age) => ({ detail: `${age} s old`, headers: standardHeaders(target, body, { timestamp: String(now() - age) }) })),
    INVALID_SIGNATURE,
  ),
  withHeaders(
    'Standard Webhooks timestamp in the future',
    (target, body) => fc.integer({ min: 301, max: 10_000_000 }).map((ahead) => ({ detail: `${ahead} s ahead`, headers: standardHeaders(target, body, { timestamp: String(now() + ahead) }) })),
    INVALID_SIGNATURE,
  ),
  withHeaders(
    'malformed webhook-id',
    (target, body) =>
      fc.oneof(fc.constant<string | null>(null), fc.constant(''), fc.integer({ min: 257, max: 2000 }).map((length) => 'm'.repeat(length))).map((id) => ({
        detail: id === null ? 'no webhook-id' : `webhook-id of ${id.length} characters`,
        headers: standardHeaders(target, body, { id }),
      })),
    INVALID_SIGNATURE,
  ),
  withHeaders(
    'malformed webhook-timestamp',
    (target, body) =>
      fc
        .oneof(
          fc.constant<string | null>(null),
          fc.constantFrom('', 'now', '-1', '1e9', `${now()}.0`, `0x${now().toString(16)}`, '1234567890123'),
          fc.string({ minLength: 1, maxLength: 12 }).filter((text) => !/^\d+$/.test(text) && text.trim() === text),
        )
        .map((timestamp) => ({ detail: timestamp === null ? 'no webhook-timestamp' : `webhook-timestamp "${timestamp}"`, headers: standardHeaders(target, body, { timestamp }) })),
    INVALID_SIGNATURE,
  ),
  withHeaders(
    'malformed webhook-signature',
    (target, body) => {
      const good = signStandardWebhook('msg_bad_input', now(), body, target.secret).slice(3);
      return fc
        .oneof(
          fc.constantFrom(`v2,${good}`, `V1,${good}`, good, `v1,`, 'v1,!!!not-base64!!!', `v1a,${good}`),
          fc.constant(null).map(() => signStandardWebhook('msg_bad_input', now(), Buffer.concat([body, Buffer.from(' ')]), target.secret)),
          fc.string({ maxLength: 60 }).filter((text) => !text.includes('v1,') && text.trim() === text),
        )
        .map((signature) => ({ detail: `webhook-signature "${signature}"`, headers: standardHeaders(target, body, { signature }) }));
    },
    INVALID_SIGNATURE,
  ),
  withHeaders(
    'repeated Standard Webhooks header',
    (target, body) =>
      fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature').map((name) => {
        const headers = standardHeaders(target, body, {});
        return { detail: `${name} twice`, headers: [...headers, headers.find(([header]) => header === name)!] };
      }),
    INVALID_SIGNATURE,
  ),
  fc.tuple(endpoint, fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH')).chain(([target, method]) =>
    pathOf(target).map((path): Case => ({ kind: 'wrong method', endpoint: target.definition.name, detail: method, method, path, body: Buffer.alloc(0), headers: [], expect: METHOD_NOT_ALLOWED })),
  ),
  fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-'.split('')) }).filter((name) => !webhookByName(name)).map((name) => `/api/webhooks/${name}`),
      fc.constantFrom('/api/v2/webhooks/buy-complete', '/api/webhooks/buy-complete/', '/webhooks/relworx', '/api/webhooks/'),
    )
    .map((path): Case => {
      const body = validBody(ENDPOINTS[0]!);
      return { kind: 'unknown path', endpoint: 'none', detail: path, method: 'POST', path, body, headers: [...JSON_TYPE, ...signedWith(ENDPOINTS[0]!, 'own', body)], expect: NOT_FOUND };
    }),
];

const cases = fc.oneof(...GENERATORS);

interface Response {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** One request with exactly these bytes and headers; status 0 when the server closed the connection. */
function send(port: number, testCase: Pick<Case, 'method' | 'path' | 'body' | 'headers'>): Promise<Response> {
  // A header given twice is sent as two header lines (Node writes an array value that way).
  const headers: Record<string, string | string[]> = { 'content-length': String(testCase.body.length) };
  for (const [name, value] of testCase.headers) {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return new Promise((resolve) => {
    const closed = { status: 0, contentType: undefined, text: '' };
    const request = httpRequest({ host: '127.0.0.1', port, method: testCase.method, path: testCase.path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', () => resolve(closed));
    });
    request.on('error', () => resolve(closed));
    request.end(testCase.body);
  });
}

/** Writes `chunks` one every `intervalMs`; resolves with the status line received, or 'closed'. */
function drip(port: number, chunks: string[], intervalMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let index = 0;
    const timer = setInterval(() => {
      if (index < chunks.length && !socket.destroyed) socket.write(chunks[index++]!);
    }, intervalMs);
    socket.on('data', (data) => (received += data.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received ? received.split('\r\n')[0]! : 'closed');
    });
  });
}

describe('faults: bad input never gets in', () => {
  let receiver: ServiceProcess;
  let port: number;
  let topic: string;

  beforeAll(async () => {
    const endpoints = serviceEndpoints();
    port = await freePort();
    topic = uniqueName('bad_input');
    receiver = serviceProcess(
      'receiver',
      {
        ...TEST_SECRETS,
        RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
        KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
        WEBHOOK_EVENTS_TOPIC: topic,
        PORT: String(port),
        HOST: '127.0.0.1',
        RATE_LIMIT_PER_SECOND: '0',
        HEADERS_TIMEOUT_MS: '1000',
        REQUEST_TIMEOUT_MS: '2000',
        LOG_LEVEL: 'warn',
      },
      `http://127.0.0.1:${port}/readyz`,
    );
    await receiver.start();
  });

  it('answers 1,000 generated bad requests on all four endpoints with the documented status and body, stays up with flat memory, and writes nothing', async () => {
    process.stdout.write(`\nBad-input seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);
    // Warm up, then take the memory baseline.
    const warmUp = validBody(ENDPOINTS[0]!);
    for (let index = 0; index < 200; index += 1) await send(port, { method: 'POST', path: '/api/webhooks/buy-complete', body: warmUp, headers: [...JSON_TYPE] });
    const rssBefore = receiver.rssMiB();
    const kinds = new Map<string, number>();
    const endpointsSeen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(cases, async (testCase) => {
        const response = await send(port, testCase);
        kinds.set(testCase.kind, (kinds.get(testCase.kind) ?? 0) + 1);
        endpointsSeen.add(testCase.endpoint);
        const where = `${testCase.kind} on ${testCase.method} ${testCase.path} (${testCase.detail})`;
        if (response.status !== testCase.expect.status) throw new Error(`${where}: expected ${testCase.expect.status}, got ${response.status} ${response.text}`);
        if (!response.contentType?.startsWith('application/json')) throw new Error(`${where}: content type ${response.contentType}`);
        expect({ where, body: JSON.parse(response.text) as unknown }).toEqual({ where, body: testCase.expect.body });
      }),
      { seed: FAULT_SEED, numRuns: 1000 },
    );
    const rssAfter = receiver.rssMiB();
    process.stdout.write(
      `Bad input: 1000 requests; receiver RSS ${rssBefore} → ${rssAfter} MiB\n${[...kinds].sort(([a], [b]) => a.localeCompare(b)).map(([kind, count]) => `  ${kind.padEnd(42)} ${count}`).join('\n')}\n`,
    );

    expect(kinds.size).toBe(GENERATORS.length);
    expect([...endpointsSeen].sort()).toEqual(['buy-complete', 'none', 'relworx', 'sell-complete', 'trade-status']);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(rssAfter - rssBefore).toBeLessThan(64);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(0);
  }, 300_000);

  it('closes slow-drip headers and bodies', async () => {
    const slowHeaders = drip(port, ['POST /api/webhooks/buy-complete HTTP/1.1\r\n', 'Host: x\r\n', 'Content-Type: application/json\r\n', 'X-Slow: 1\r\n', 'X-Slow: 2\r\n', 'X-Slow: 3\r\n', 'X-Slow: 4\r\n', 'X-Slow: 5\r\n'], 500);
    const body = '{"trade_id":42,"status":"completed","transaction_hash":"0xabc"}';
    const slowBody = drip(
      port,
      [`POST /api/webhooks/buy-complete HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Buy-Webhook-Signature: ${signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET)}\r\n\r\n`, ...body.split('')],
      300,
    );
    const [headers, bodyResult] = await Promise.all([slowHeaders, slowBody]);
    expect(['closed', 'HTTP/1.1 408 Request Timeout']).toContain(headers);
    expect(['closed', 'HTTP/1.1 408 Request Timeout']).toContain(bodyResult);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(0);
  }, 60_000);
});
