import { Type } from 'avsc';
import { cloudEventHeaders } from '../../receiver/event-publisher';
import { BATCH_OVERHEAD_BYTES, eventBytesBound, largestBodyFor, MAX_HEADER_BYTES, recordBytes } from '../../receiver/event-size';
import { readAvroSchema, WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import type { WebhookEventRecord } from '../../schemas/webhook-event';

// kafkajs's own encoders, to measure what it writes rather than trust the estimate.
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ size(): number }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;

const avro = Type.forSchema(readAvroSchema(WEBHOOK_EVENT_SCHEMA_FILE) as never);

/** The message the publisher sends for `record`: the wire-format prefix (magic byte, schema id) and the Avro body. */
function messageOf(key: string, record: WebhookEventRecord) {
  return { key, value: Buffer.concat([Buffer.alloc(5, 0x7f), avro.toBuffer(record)]), headers: cloudEventHeaders(record) };
}

/** The bytes of the record batch kafkajs encodes for these messages, as the broker counts them against max.message.bytes. */
async function encodedBatchBytes(messages: ReturnType<typeof messageOf>[]): Promise<number> {
  const records = messages.map((message, index) => Record({ ...message, offsetDelta: index, timestampDelta: index * 1_000_000_000 }));
  const batch = await RecordBatch({ records, lastOffsetDelta: messages.length - 1, firstSequence: 2 ** 31 - 1 });
  return batch.size();
}

/** The largest event a body of `bodyBytes` can make: a Relworx body that is nearly all customer reference (the key), headers at the limit in two-byte characters. */
function largestEvent(bodyBytes: number): { key: string; record: WebhookEventRecord } {
  const frame = '{"status":"success","internal_reference":"R","customer_reference":""}';
  const key = 'k'.repeat(bodyBytes - frame.length);
  const body = frame.replace('""', `"${key}"`);
  const webhookId = 'é'.repeat(256);
  return {
    key,
    record: {
      event_id: `relworx_payment:${webhookId}`,
      webhook_type: 'relworx_payment',
      received_at: Date.now(),
      path: '/api/v1/webhooks/sell-complete',
      signature_scheme: 'standard-webhooks',
      remote_addr: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
      content_type: `application/json; x=${'é'.repeat(MAX_HEADER_BYTES - 300)}`,
      body,
    },
  };
}

describe('event size', () => {
  it('never estimates a batch smaller than kafkajs encodes it', async () => {
    const messages = [100, 1000, 70_000].map((bodyBytes) => messageOf(String(bodyBytes), largestEvent(bodyBytes).record));
    const estimate = BATCH_OVERHEAD_BYTES + messages.reduce((sum, message) => sum + recordBytes(message), 0);
    const encoded = await encodedBatchBytes(messages);
    expect(estimate).toBeGreaterThanOrEqual(encoded);
    // An upper bound, but a close one: batches are not cut much smaller than they could be.
    expect(estimate - encoded).toBeLessThan(messages.length * 64);
  });

  it.each([1024, 64 * 1024, 400 * 1024])('bounds the largest event of a %d-byte body', async (bodyBytes) => {
    const { key, record } = largestEvent(bodyBytes);
    expect(Buffer.byteLength(record.body)).toBe(bodyBytes);
    const message = messageOf(key, record);
    expect(BATCH_OVERHEAD_BYTES + recordBytes(message)).toBeLessThanOrEqual(eventBytesBound(bodyBytes));
    expect(await encodedBatchBytes([message])).toBeLessThanOrEqual(eventBytesBound(bodyBytes));
  });

  it('gives the largest body whose events fit in a batch', () => {
    const batch = 900 * 1024;
    expect(eventBytesBound(largestBodyFor(batch))).toBeLessThanOrEqual(batch);
    expect(eventBytesBound(largestBodyFor(batch) + 1)).toBeGreaterThan(batch);
  });
});
