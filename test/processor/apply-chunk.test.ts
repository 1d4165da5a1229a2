import type { Knex } from 'knex';
import { applyChunk } from '../../processor/apply-chunk';
import type { DecodedEvent } from '../../processor/decode-event';
import { parseJsonObject, validatePayload } from '../../schemas/payload-validation';
import { webhookByType } from '../../schemas/webhook-catalog';
import { envelopeFor } from '../support/events';
import { insertTrade, migratedDatabase } from '../support/processor';

let offset = 0;

/** An event as the consumer decodes it, without Kafka: the apply step alone. */
function accepted(webhookType: string, body: string): DecodedEvent {
  const definition = webhookByType(webhookType)!;
  const validation = validatePayload(definition, parseJsonObject(body)!);
  if (!validation.ok) throw new Error(`invalid test body: ${JSON.stringify(validation)}`);
  offset += 1;
  return { ok: true, envelope: envelopeFor(webhookType, body), definition, payload: validation.payload, source: { topic: 'events', partition: 0, offset: String(offset) } };
}

describe('applying a chunk of events in one transaction', () => {
  let db: Knex;
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
  });

  const apply = (events: DecodedEvent[]) => db.transaction((trx) => applyChunk(trx, events, 'notifications'));

  it('lets later events of a chunk see the trade as earlier ones left it', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', fiat_amount: '50000', fiat_currency: 'UGX' });
    const results = await apply([
      accepted('trade_status', JSON.stringify({ trade_id: trade.id, status: 'processing', metadata: { stage: 'payment', fee: 1 } })),
      accepted('relworx_payment', JSON.stringify({ status: 'success', customer_reference: trade.reference, internal_reference: 'R1', amount: 50000 })),
      accepted('buy_completion', `{"trade_id":${trade.id},"status":"completed","crypto_amount":0.123456789012345678,"transaction_hash":"0xc"}`),
      accepted('trade_status', JSON.stringify({ trade_id: trade.id, status: 'processing', metadata: { stage: 'late' } })),
    ]);

    expect(results.map((result) => result.outcome)).toEqual(['applied', 'applied', 'applied', 'stale']);
    const row = await db('trades').where({ id: trade.id }).first();
    expect(row).toEqual(expect.objectContaining({ status: 'completed', crypto_amount: '0.123456789012345678' }));
    expect(row.metadata).toEqual(expect.objectContaining({ stage: 'payment', fee: 1, transaction_hash: '0xc', relworx: expect.objectContaining({ internal_reference: 'R1' }) }));
    expect(row.metadata.last_webhook.webhook_type).toBe('buy_completion');
    const outbox = await db('outbox').whereIn('event_id', results.map((result) => result.eventId)).orderBy('id');
    expect(outbox.map((entry) => entry.payload.status)).toEqual(['processing', 'processing', 'completed']);
    expect(outbox[2].payload.crypto_amount).toBe('0.123456789012345678');
    expect((await db('transactions').where({ trade_id: trade.id }).orderBy('kind')).map((t) => [t.kind, t.status])).toEqual([
      ['crypto_transfer', 'completed'],
      ['mobile_money', 'completed'],
    ]);
  });

  it('counts a repeat inside the chunk and one from an earlier chunk as duplicates', async () => {
    const trade = await insertTrade(db, { trade_type: 'sell', status: 'processing' });
    const event = accepted('sell_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', payment_reference: 'P1' }));
    expect((await apply([event, event])).map((result) => result.outcome)).toEqual(['applied', 'duplicate']);
    expect((await apply([event])).map((result) => result.outcome)).toEqual(['duplicate']);
    expect((await db('webhook_events').where({ event_id: (event as { envelope: { event_id: string } }).envelope.event_id }).first()).deliveries).toBe(3);
    expect(await db('outbox').where({ event_id: (event as { envelope: { event_id: string } }).envelope.event_id })).toHaveLength(1);
  });

  it('rejects one event without holding back the others of its chunk', async () => {
    const good = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const results = await apply([
      accepted('buy_completion', JSON.stringify({ trade_id: 987_654_321, status: 'failed' })),
      accepted('buy_completion', JSON.stringify({ trade_id: good.id, status: 'failed' })),
    ]);
    expect(results.map((result) => [result.outcome, result.reason])).toEqual([
      ['rejected', 'trade_not_found'],
      ['applied', undefined],
    ]);
    expect((await db('trades').where({ id: good.id }).first()).failed_at).toEqual(expect.any(Date));
  });
});
