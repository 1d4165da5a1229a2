import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import type { AvroSchema } from '../../schemas/avro-schemas';

/** Every released version of each schema: `<file name without .avsc>/v<N>.avsc`, v1 the first. */
export const AVRO_HISTORY_DIR = join(__dirname, '..', '..', 'schemas', 'avro-history');

const VERSION_FILE = /^v([1-9]\d*)\.avsc$/;

export interface SchemaVersion {
  readonly version: number;
  readonly schema: AvroSchema;
}

/** The versions of one schema, oldest first; a file not named v<N>.avsc throws. */
export function schemaHistory(name: string): SchemaVersion[] {
  return readdirSync(join(AVRO_HISTORY_DIR, name))
    .map((file) => {
      const match = VERSION_FILE.exec(file);
      if (!match) throw new Error(`${name}/${file} in the schema history is not named v<N>.avsc`);
      return { version: Number(match[1]), schema: JSON.parse(readFileSync(join(AVRO_HISTORY_DIR, name, file), 'utf8')) as AvroSchema };
    })
    .sort((a, b) => a.version - b.version);
}

/** One read a compatibility rule promises: a record written with `writer` is read with `reader` (versions). */
export interface PromisedRead {
  readonly writer: number;
  readonly reader: number;
}

/**
 * The reads a subject's compatibility rule promises once version `newest` is registered after
 * versions 1 … newest-1, as Confluent defines the levels: BACKWARD, the new schema reads what
 * the one before it wrote (consumers upgrade first); FORWARD, the one before reads what the new
 * one writes (producers upgrade first); FULL, both; each _TRANSITIVE variant, the same against
 * every earlier version, not only the last; NONE, nothing.
 */
export function readsPromisedBy(level: COMPATIBILITY, newest: number): PromisedRead[] {
  const earlier = Array.from({ length: newest - 1 }, (_, index) => index + 1);
  const against = level.endsWith('_TRANSITIVE') ? earlier : earlier.slice(-1);
  const backward = [COMPATIBILITY.BACKWARD, COMPATIBILITY.BACKWARD_TRANSITIVE, COMPATIBILITY.FULL, COMPATIBILITY.FULL_TRANSITIVE].includes(level);
  const forward = [COMPATIBILITY.FORWARD, COMPATIBILITY.FORWARD_TRANSITIVE, COMPATIBILITY.FULL, COMPATIBILITY.FULL_TRANSITIVE].includes(level);
  return [...(backward ? against.map((version) => ({ writer: version, reader: newest })) : []), ...(forward ? against.map((version) => ({ writer: newest, reader: version })) : [])];
}
