import type { KafkaMessage } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import fc from 'fast-check';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { decodeEvent, type DecodedEvent } from '../../processor/decode-event';
import { classifyFailure } from '../../processor/errors';
import { serviceEndpoints } from '../setup/service-endpoints';
import { envelopeFor } from '../support/events';
import { freePort } from '../../scripts/harness/free-port';
import { uniqueName } from '../support/names';

const source = { topic: 'webhook-events', partition: 0, offset: '42' };
const message = (value: Buffer, headers: Record<string, string> = {}): KafkaMessage => ({ key: null, value, timestamp: '0', attributes: 0, offset: '42', headers }) as KafkaMessage;

/** The Confluent wire format: magic byte 0, the schema id, the Avro body. */
const wire = (schemaId: number, body: Buffer): Buffer => {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
};

const rejection = (decoded: DecodedEvent): string | undefined => (decoded.ok ? undefined : decoded.reason);

describe('decodeEvent', () => {
  let registry: SchemaRegistry;
  let schemaId: number;
  beforeAll(async () => {
    registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    schemaId = await registerValueSchema(registry, uniqueName('decode'), WEBHOOK_EVENT_SCHEMA_FILE);
  });

  const encoded = async (envelope: object): Promise<Buffer> => registry.encode(schemaId, envelope);
  const valid = () => envelopeFor('buy_completion', JSON.stringify({ trade_id: 7, status: 'completed', transaction_hash: '0x7' }));

  it('reads a WebhookEvent written by the receiver', async () => {
    const decoded = await decodeEvent(registry, message(await encoded(valid())), source);
    expect(decoded).toEqual(expect.objectContaining({ ok: true, payload: expect.objectContaining({ trade_id: '7', status: 'completed' }) }));
  });

  it('throws on a schema id the registry does not know, as a failure to retry, never a rejection', async () => {
    const unknown = wire(2_000_000_000, Buffer.from(await encoded(valid())).subarray(5));
    const error = await decodeEvent(registry, message(unknown), source).then(() => undefined, (failure: unknown) => failure);
    expect(classifyFailure(error)).toEqual({ code: 'schema_unknown', retriable: true, decision: 'retry' });
  });

  it('throws a programmer error met while fetching the schema instead of calling the record undecodable', async () => {
    const broken = Object.create(registry, {
      getSchema: { value: async () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'schema')")) },
      decode: { value: async () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'schema')")) },
    }) as SchemaRegistry;
    await expect(decodeEvent(broken, message(await encoded(valid())), source)).rejects.toThrow(TypeError);
  });

  it('rejects a schema id below 1 as not the wire format, without asking the registry', async () => {
    const nobody = createRegistry(`http://127.0.0.1:${await freePort()}`);
    const decoded = await decodeEvent(nobody, message(wire(0, Buffer.from('body'))), source);
    expect(decoded).toEqual(expect.objectContaining({ ok: false, reason: 'undecodable_envelope', detail: 'not in the Confluent wire format' }));
  });

  it('rejects bytes that are not a record of the schema they name as undecodable', async () => {
    const decoded = await decodeEvent(registry, message(wire(schemaId, Buffer.from([0x02, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f]))), source);
    expect(decoded).toEqual(expect.objectContaining({ ok: false, reason: 'undecodable_envelope', eventId: 'undecodable:webhook-events:0:42' }));
  });

  it('keeps the id an undecodable record was dead-lettered under when it is replayed from the DLQ', async () => {
    const decoded = await decodeEvent(registry, message(Buffer.from('not Avro'), { dlq_event_id: 'undecodable:webhook-events:2:7' }), source);
    expect(decoded).toEqual(
      expect.objectContaining({ ok: false, reason: 'undecodable_envelope', eventId: 'undecodable:webhook-events:2:7', source: { ...source, replayOf: 'undecodable:webhook-events:2:7' } }),
    );
  });

  it("never lets a replayed record's header give an undecodable record another event's id", async () => {
    const decoded = await decodeEvent(registry, message(Buffer.from('not Avro'), { dlq_event_id: 'buy_completion:msg_1' }), source);
    expect(decoded).toEqual(expect.objectContaining({ eventId: 'undecodable:webhook-events:0:42' }));
  });

  it.each([
    ['a received_at no date can hold', { received_at: 9e15 }],
    ['a received_at before the epoch', { received_at: -1 }],
    ['a NUL in the event id', { event_id: 'evt\u0000' }],
    ['an event id too long for its primary key index', { event_id: 'é'.repeat(513) }],
    ['a NUL in the webhook type', { webhook_type: 'buy_completion\u0000' }],
    ['a NUL in the body', { body: '{"trade_id":7,"status":"completed","transaction_hash":"0x7"}\u0000' }],
  ])('rejects an envelope with %s as undecodable, before it reaches code or SQL that would fail on it', async (_what, change) => {
    const decoded = await decodeEvent(registry, message(await encoded({ ...valid(), ...change })), source);
    expect(decoded).toEqual(expect.objectContaining({ ok: false, reason: 'undecodable_envelope', detail: 'not a WebhookEvent' }));
  });

  it('never throws on arbitrary bytes after a known schema id: a data problem is always a rejection', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const decoded = await decodeEvent(registry, message(wire(schemaId, Buffer.from(bytes))), source);
        expect(decoded.ok ? 'ok' : rejection(decoded)).toMatch(/^(ok|undecodable_envelope|unknown_webhook_type|schema_invalid)$/);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on an arbitrary body or webhook type: a data problem is always a rejection', async () => {
    const types = fc.oneof(fc.constantFrom('buy_completion', 'sell_completion', 'trade_status', 'relworx_payment'), fc.string());
    const bodies = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify({ trade_id: 7, status: 'completed', metadata: value, amount: value })));
    await fc.assert(
      fc.asyncProperty(types, bodies, fc.integer({ min: 0, max: 8.64e15 }), async (webhookType, body, receivedAt) => {
        const envelope = { ...envelopeFor('buy_completion', body), webhook_type: webhookType, received_at: receivedAt };
        const decoded = await decodeEvent(registry, message(await encoded(envelope)), source);
        expect(decoded.ok ? 'ok' : rejection(decoded)).toMatch(/^(ok|undecodable_envelope|unknown_webhook_type|schema_invalid)$/);
      }),
      { numRuns: 300 },
    );
  });
});
