import fc from 'fast-check';
import { signPayload, signStandardWebhook } from '../../sender';
import { webhookByName } from '../../schemas/webhook-catalog';
import { TEST_RELWORX_CALLBACK_URL } from '../support/receiver';
import {
  ENDPOINTS,
  INVALID_JSON,
  INVALID_SIGNATURE,
  INVALID_STATUS,
  INVALID_WEBHOOK_TYPE,
  JSON_TYPE,
  MAX_BODY,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  PAYLOAD_TOO_LARGE,
  RELWORX,
  RELWORX_MAX_BODY,
  UNSUPPORTED_MEDIA_TYPE,
  bodyWith,
  missingFields,
  now,
  relworxHeader,
  signedWith,
  standardHeaders,
  validBody,
  type Answer,
  type Endpoint,
  type FieldKind,
  type Scheme,
} from './webhook-endpoints';

/**
 * Generated bad requests for the four webhook endpoints, each with the answer the receiver must
 * give: one kind of defect per generator (a wrong or missing field, an unreadable body, a bad
 * or repeated header, a wrong method or path), each drawn for every endpoint it applies to.
 */

export interface Case {
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

const maxBodyOf = (target: Endpoint): number => (target === RELWORX ? RELWORX_MAX_BODY : MAX_BODY);

/**
 * A body that is not a JSON object: 400 Invalid JSON once signed, but 401 through Relworx's own
 * scheme, which must read the body to verify it — and 413 when it is over the endpoint's limit.
 */
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
      expect: body.length > maxBodyOf(target) ? PAYLOAD_TOO_LARGE : target === RELWORX && signing === 'own' ? INVALID_SIGNATURE : INVALID_JSON,
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

/** One generator per kind of defect. */
export const BAD_REQUEST_KINDS: Array<fc.Arbitrary<Case> | fc.WeightedArbitrary<Case>> = [
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
    fc.tuple(fc.integer({ min: maxBodyOf(target) + 1, max: maxBodyOf(target) * 4 }), pathOf(target)).map(([size, path]): Case => {
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

export const badRequests: fc.Arbitrary<Case> = fc.oneof(...BAD_REQUEST_KINDS);
