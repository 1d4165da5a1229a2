import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import fc from 'fast-check';
import { Type, type Schema } from 'avsc';
import { COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { SUBJECT_COMPATIBILITY } from '../../platform/schema-registry';
import { AVRO_DIR, readAvroSchema, TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE, type AvroSchema } from '../../schemas/avro-schemas';
import { exactLongHook } from '../../schemas/exact-long';
import { avroValues } from '../support/avro-samples';
import { AVRO_HISTORY_DIR, readsPromisedBy, schemaHistory, type PromisedRead } from '../support/schema-history';

const SCHEMA_FILES = readdirSync(AVRO_DIR).filter((file) => file.endsWith('.avsc'));
const NAMES = SCHEMA_FILES.map((file) => basename(file, '.avsc'));
/** Registered under a subject with SUBJECT_COMPATIBILITY; the others only validate webhook bodies. */
const REGISTERED = [WEBHOOK_EVENT_SCHEMA_FILE, TRADE_NOTIFICATION_SCHEMA_FILE].map((file) => basename(file, '.avsc'));

type RecordType = Type & { fields: Array<{ name: string; type: Type; aliases: string[]; defaultValue(): unknown }> };

/** Parsed as the services parse: every long exact. */
function avroType(schema: AvroSchema): RecordType {
  return Type.forSchema(schema as unknown as Schema, { typeHook: exactLongHook }) as RecordType;
}

/**
 * Records written with `writer` are read with `reader` by Avro's resolution rules: the resolver
 * exists (avsc refuses one the rules forbid), and generated records read back with the writer's
 * value in each field both have alike and the reader's default in each field only it has.
 */
function expectReads(writer: AvroSchema, reader: AvroSchema): void {
  const writerType = avroType(writer);
  const readerType = avroType(reader);
  const resolver = readerType.createResolver(writerType);
  fc.assert(
    fc.property(avroValues(writerType), (record) => {
      const bytes = writerType.toBuffer(record);
      const written = writerType.fromBuffer(bytes) as Record<string, unknown>;
      const read = readerType.fromBuffer(bytes, resolver) as Record<string, unknown>;
      expect(readerType.isValid(read)).toBe(true);
      for (const field of readerType.fields) {
        const source = writerType.fields.find(({ name }) => name === field.name || field.aliases.includes(name));
        if (source === undefined) expect(read[field.name]).toEqual(field.defaultValue());
        else if (source.type.equals(field.type)) expect(read[field.name]).toEqual(written[source.name]);
      }
    }),
    { numRuns: 100 },
  );
}

function withField(schema: AvroSchema, name: string, change: (field: AvroSchema['fields'][number]) => AvroSchema['fields'][number] | undefined): AvroSchema {
  return { ...schema, fields: schema.fields.flatMap((field) => (field.name === name ? [change(field)].filter((kept) => kept !== undefined) : [field])) };
}

describe('the schema history', () => {
  it('has a folder for each schema file and for no other', () => {
    expect(readdirSync(AVRO_HISTORY_DIR).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('numbers the versions of %s 1 to N, each different from the one before', (name) => {
    const history = schemaHistory(name);
    expect(history.map(({ version }) => version)).toEqual(history.map((_, index) => index + 1));
    history.slice(1).forEach(({ schema }, index) => expect(schema).not.toEqual(history[index]!.schema));
  });

  // A schema change without its history entry fails here: copy the new schema to v<N+1>.avsc.
  it.each(SCHEMA_FILES)('has the current %s as its newest version', (file) => {
    const history = schemaHistory(basename(file, '.avsc'));
    expect(history[history.length - 1]!.schema).toEqual(readAvroSchema(file));
  });

  // Records written with any released version may still be in a topic (retention, a DLQ
  // replay), whatever the subject's rule asks of the registry.
  it.each(NAMES.flatMap((name) => schemaHistory(name).slice(0, -1).map(({ version }) => [name, version] as const)))(
    'the current %s reads records written with v%d',
    (name, version) => {
      const history = schemaHistory(name);
      expectReads(history[version - 1]!.schema, history[history.length - 1]!.schema);
    },
  );

  it.each(REGISTERED.flatMap((name) => readsPromisedBy(SUBJECT_COMPATIBILITY, schemaHistory(name).length).map((read) => [name, read.writer, read.reader] as const)))(
    `%s keeps its subject's ${SUBJECT_COMPATIBILITY} promise: v%d written, v%d reads`,
    (name, writer, reader) => {
      const history = schemaHistory(name);
      expectReads(history[writer - 1]!.schema, history[reader - 1]!.schema);
    },
  );
});

describe('what a compatibility rule promises, with v3 registered after v1 and v2', () => {
  const backward = (writer: number): PromisedRead => ({ writer, reader: 3 });
  const forward = (reader: number): PromisedRead => ({ writer: 3, reader });

  it.each<[COMPATIBILITY, PromisedRead[]]>([
    [COMPATIBILITY.NONE, []],
    [COMPATIBILITY.BACKWARD, [backward(2)]],
    [COMPATIBILITY.BACKWARD_TRANSITIVE, [backward(1), backward(2)]],
    [COMPATIBILITY.FORWARD, [forward(2)]],
    [COMPATIBILITY.FORWARD_TRANSITIVE, [forward(1), forward(2)]],
    [COMPATIBILITY.FULL, [backward(2), forward(2)]],
    [COMPATIBILITY.FULL_TRANSITIVE, [backward(1), backward(2), forward(1), forward(2)]],
  ])('%s', (level, reads) => {
    expect(readsPromisedBy(level, 3)).toEqual(reads);
  });

  it('promises nothing of a first version', () => {
    expect(readsPromisedBy(COMPATIBILITY.FULL_TRANSITIVE, 1)).toEqual([]);
  });
});

describe('the read check', () => {
  const current = readAvroSchema(WEBHOOK_EVENT_SCHEMA_FILE);

  it('passes a new optional field with a default, both ways', () => {
    const next = { ...current, fields: [...current.fields, { name: 'tenant', type: ['null', 'string'], default: null }] };
    expectReads(current, next);
    expectReads(next, current);
  });

  it('fails a field retyped', () => {
    expect(() => expectReads(withField(current, 'path', (field) => ({ ...field, type: 'long' })), current)).toThrow('cannot read "long" as "string"');
  });

  it('fails a new field without a default, read from records written before it', () => {
    const next = { ...current, fields: [...current.fields, { name: 'tenant', type: 'string' }] };
    expect(() => expectReads(current, next)).toThrow('no matching field for default-less exchange.trade_webhooks.WebhookEvent.tenant');
  });

  it('fails a field renamed without an alias, and passes it renamed with one', () => {
    const renamed = withField(current, 'body', (field) => ({ ...field, name: 'raw_body' }));
    expect(() => expectReads(current, renamed)).toThrow('no matching field for default-less exchange.trade_webhooks.WebhookEvent.raw_body');
    expectReads(current, withField(current, 'body', (field) => ({ ...field, name: 'raw_body', aliases: ['body'] }) as AvroSchema['fields'][number]));
  });

  it('fails a required field removed, read by a version that still has it (forward)', () => {
    expect(() => expectReads(withField(current, 'content_type', () => undefined), current)).toThrow('no matching field for default-less exchange.trade_webhooks.WebhookEvent.content_type');
  });

  it('fails an enum symbol added, read by a version without it (forward)', () => {
    const status = readAvroSchema('trade-status.avsc');
    const more = withField(status, 'status', (field) => ({ ...field, type: { ...(field.type as object), symbols: [...(field.type as { symbols: string[] }).symbols, 'refunded'] } }));
    expect(() => expectReads(more, status)).toThrow('cannot read "exchange.trade_webhooks.payloads.TradeStatusStatus"');
  });
});
