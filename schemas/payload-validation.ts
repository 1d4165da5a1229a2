import { isLosslessNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import { Type } from 'avsc';
import { readAvroSchema, type AvroField } from './avro-schemas';
import { toDecimalText } from './decimal-text';
import { exactLongHook, int64Text } from './exact-long';
import type { WebhookDefinition } from './webhook-catalog';

/**
 * A validated body as an Avro record of its type's schema: ids (Avro `long`), amounts and
 * metadata as exact text.
 */
export type WebhookPayload = Record<string, string | null>;

export type ValidationResult =
  | { ok: true; payload: WebhookPayload }
  | { ok: false; error: 'invalid_json' }
  | { ok: false; error: 'missing_fields'; fields: string[] }
  | { ok: false; error: 'invalid_status' }
  | { ok: false; error: 'invalid_webhook_type' };

type JsonObject = Record<string, unknown>;

// ignoreBOM keeps a leading byte-order mark, so the parser refuses it: JSON text must not
// start with one (RFC 8259 §8.1), and the body is stored and later parsed exactly as sent.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses a body as a JSON object, keeping every number as its exact text.
 * Invalid UTF-8, duplicate keys with different values, nesting too deep for the stack,
 * or anything but an object: undefined.
 */
export function parseJsonObject(body: Buffer | string): JsonObject | undefined {
  try {
    const text = typeof body === 'string' ? body : utf8.decode(body);
    const value = parseLossless(text);
    // A bare number comes back as a LosslessNumber, an object too, but not a JSON object.
    return value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

// RFC 3339 date-time, the profile of ISO-8601 that senders use.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/;

interface FieldRule {
  readonly name: string;
  readonly optional: boolean;
  readonly kind: 'long' | 'string' | 'enum' | 'number' | 'object' | 'timestamp';
  readonly symbols?: readonly string[];
  readonly requiredWhenStatus?: string;
}

interface CompiledSchema {
  readonly rules: readonly FieldRule[];
  readonly type: Type;
}

function ruleFor(field: AvroField): FieldRule {
  const union = Array.isArray(field.type) ? field.type : undefined;
  const optional = union !== undefined && union.includes('null');
  const inner = union ? union.find((member) => member !== 'null') : field.type;
  const base = { name: field.name, optional, requiredWhenStatus: field.requiredWhenStatus };
  if (inner === 'long') return { ...base, kind: 'long' };
  if (typeof inner === 'object' && inner !== null && (inner as { type?: string }).type === 'enum') {
    return { ...base, kind: 'enum', symbols: (inner as { symbols: string[] }).symbols };
  }
  if (inner === 'string') return { ...base, kind: field.jsonType ?? 'string' };
  throw new Error(`unsupported payload field type for ${field.name}: ${JSON.stringify(field.type)}`);
}

const compiled = new Map<string, CompiledSchema>();

function compile(schemaFile: string): CompiledSchema {
  let schema = compiled.get(schemaFile);
  if (!schema) {
    const avro = readAvroSchema(schemaFile);
    schema = { rules: avro.fields.map(ruleFor), type: Type.forSchema(avro as never, { typeHook: exactLongHook }) };
    compiled.set(schemaFile, schema);
  }
  return schema;
}

/** The field's value as the Avro record holds it, or undefined when its JSON type is wrong. */
function convert(rule: FieldRule, value: unknown): string | undefined {
  switch (rule.kind) {
    // Ids are bigints: any signed 64-bit integer, kept as decimal text so none is rounded.
    case 'long':
      return isLosslessNumber(value) ? int64Text(value.value) : undefined;
    case 'number':
      return isLosslessNumber(value) ? toDecimalText(value.value) : undefined;
    case 'timestamp':
      return typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value)) ? value : undefined;
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value) ? stringifyLossless(value) : undefined;
    case 'string':
    case 'enum':
      return typeof value === 'string' ? value : undefined;
  }
}

/**
 * Checks a parsed body against its webhook type's Avro schema (schemas/avro/), in the order
 * of the response table: wrong or missing fields first, then the status, then webhook_type.
 */
export function validatePayload(definition: WebhookDefinition, body: JsonObject): ValidationResult {
  const { rules, type } = compile(definition.schemaFile);
  const payload: WebhookPayload = {};
  const wrong: string[] = [];
  let statusAllowed = true;
  for (const rule of rules) {
    const value = body[rule.name];
    if (value === undefined || value === null) {
      if (!rule.optional) wrong.push(rule.name);
      payload[rule.name] = null;
      continue;
    }
    const converted = convert(rule, value);
    if (converted === undefined) {
      wrong.push(rule.name);
      payload[rule.name] = null;
      continue;
    }
    if (rule.kind === 'enum' && !rule.symbols!.includes(converted as string)) statusAllowed = false;
    payload[rule.name] = converted;
  }
  for (const rule of rules) {
    if (rule.requiredWhenStatus !== undefined && payload.status === rule.requiredWhenStatus && payload[rule.name] === null) {
      if (!wrong.includes(rule.name)) wrong.push(rule.name);
    }
  }
  if (wrong.length > 0) return { ok: false, error: 'missing_fields', fields: wrong };
  if (!statusAllowed) return { ok: false, error: 'invalid_status' };
  if (payload.webhook_type !== null && payload.webhook_type !== undefined && payload.webhook_type !== definition.type) {
    return { ok: false, error: 'invalid_webhook_type' };
  }
  // The record must be one the schema can encode: a last guard against this code and the
  // .avsc files drifting apart.
  if (!type.isValid(payload)) throw new Error(`validated ${definition.type} payload does not match ${definition.schemaFile}`);
  return { ok: true, payload };
}
