import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The folder of `.avsc` files, next to this module in the source tree and in the build. */
export const AVRO_DIR = join(__dirname, 'avro');

export type AvroSchema = Record<string, unknown> & { name: string; fields: AvroField[] };

export interface AvroField {
  name: string;
  type: unknown;
  default?: unknown;
  /** Where the Avro type is a string: the JSON type the value must have (its exact text is kept). */
  jsonType?: 'number' | 'object' | 'timestamp';
  /** An optional field that becomes required when `status` has this value. */
  requiredWhenStatus?: string;
}

const cache = new Map<string, AvroSchema>();

export function readAvroSchema(file: string): AvroSchema {
  let schema = cache.get(file);
  if (!schema) {
    schema = JSON.parse(readFileSync(join(AVRO_DIR, file), 'utf8')) as AvroSchema;
    cache.set(file, schema);
  }
  return schema;
}

export const WEBHOOK_EVENT_SCHEMA_FILE = 'webhook-event.avsc';
export const TRADE_NOTIFICATION_SCHEMA_FILE = 'trade-notification.avsc';
