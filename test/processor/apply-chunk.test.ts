import type { Knex } from 'knex';
import { applyChunk } from '../../processor/apply-chunk';
import type { DecodedEvent } from '../../processor/decode-event';
import { parseJsonObject, validatePayload } from '../../schemas/payload-validation';
import { webhookByType } from '../../schemas/webhook-catalog';
import { envelopeFor } from '../support/events';
import { insertTrade, migratedDatabase } from '../support/processor';

let offset = 0;

/** An event as the consumer decodes it, without Kafka: the apply step alone. */
function accepted(webhookType: string, body: string, eventId?: string): DecodedEvent {
  const definition = webhookByType(webhookType)!;
  const validation = validatePayload(definition, parseJsonObject(body)!);
  if (!validation.ok) throw new Error(`invalid test body: ${JSON.stringify(validation)}`);
  offset += 1;
  return { ok: true, envelope: envelopeFor(definition.type, body, eventId), definition, payload: validation.payload, source: { topic: 'events', partition: 0, offset: String(offset) } };
}

const idOf = (event: DecodedEvent): string => (event.ok ? event.envelope.event_id : event.eventId);

describe('applying a chunk of events in one transaction', () => {
  let db: Knex;
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
  });

  const apply = (events: DecodedEvent[]) => db.transaction((trx) => applyChunk(trx, events, 'notifications'));

  it('lets later events of a chunk see the trade as earlier ones left it', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', crypto_amount: '0.123456789012345678', fiat_amount: '50000', fiat_currency: 'UGX' });
    const results = await apply([
      accepted('trade_status', JSON.stringify({ trade_id: trade.id, status: 'processing', metadata: { stage: 'payment', fee: 1 } })),
      accepted('relworx_payment', JSON.stringify({ status: 'success', customer_reference: trade.reference, internal_reference: 'R1', amount: 50000, currency: 'UGX' })),
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

describe('applying a chunk: amounts, metadata and reasons', () => {
  let db: Knex;
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
  });

  const apply = (events: DecodedEvent[]) => db.transaction((trx) => applyChunk(trx, events, 'notifications'));

  it('rejects a buy completion whose crypto amount differs from the agreed one, with the code and the detail apart', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing', crypto_amount: '0.001' });
    const before = await db('trades').where({ id: trade.id }).first();
    const event = accepted('buy_completion', `{"trade_id":${trade.id},"status":"completed","transaction_hash":"0x1","crypto_amount":0.002}`);

    expect((await apply([event])).map((result) => [result.outcome, result.reason])).toEqual([['rejected', 'amount_mismatch']]);
    expect(await db('trades').where({ id: trade.id }).first()).toEqual(before);
    expect(await db('webhook_events').where({ event_id: idOf(event) }).first()).toEqual(
      expect.objectContaining({ outcome: 'rejected', reason: 'amount_mismatch', reason_detail: `buy_completion reports crypto_amount 0.002; trade ${trade.id} agreed 0.001` }),
    );
  });

  it('records the amount a sell completion reports on a trade that had none agreed', async () => {
    const trade = await insertTrade(db, { trade_type: 'sell', status: 'processing' });
    await db('trades').where({ id: trade.id }).update({ fiat_amount: null });
    await apply([accepted('sell_completion', `{"trade_id":${trade.id},"status":"completed","payment_reference":"P1","fiat_amount":100.50}`)]);
    expect((await db('trades').where({ id: trade.id }).first()).fiat_amount).toBe('100.500000000000000000');
  });

  it('merges webhook metadata with jsonb || in order, keeping every key, __proto__ included', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    await db('trades').where({ id: trade.id }).update({ metadata: { kept: true, stage: 'created' } });
    await apply([
      accepted('trade_status', `{"trade_id":${trade.id},"status":"processing","metadata":{"__proto__":{"polluted":1},"stage":"payment","fee":0.123456789012345678}}`),
      accepted('trade_status', `{"trade_id":${trade.id},"status":"processing","metadata":{"stage":"transfer"}}`),
    ]);
    const { rows } = await db.raw<{ rows: Array<{ metadata: string }> }>('select metadata::text from trades where id = ?', [trade.id]);
    const metadata = JSON.parse(rows[0]!.metadata);
    expect(Object.keys(metadata)).toEqual(expect.arrayContaining(['__proto__', 'kept', 'stage', 'fee', 'last_webhook']));
    expect(rows[0]!.metadata).toContain('"__proto__": {"polluted": 1}');
    expect(rows[0]!.metadata).toContain('"fee": 0.123456789012345678');
    expect(metadata.stage).toBe('transfer');
  });

  it('records a stale event with the code transition_not_allowed and its explanation apart', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'completed' });
    const event = accepted('trade_status', JSON.stringify({ trade_id: trade.id, status: 'processing' }));
    expect((await apply([event])).map((result) => [result.outcome, result.reason, result.detail])).toEqual([
      ['stale', 'transition_not_allowed', 'trade is completed; processing not applied'],
    ]);
    expect(await db('webhook_events').where({ event_id: idOf(event) }).first()).toEqual(
      expect.objectContaining({ outcome: 'stale', reason: 'transition_not_allowed', reason_detail: 'trade is completed; processing not applied' }),
    );
  });
});

describe('applying a chunk: Relworx money rules', () => {
  let db: Knex;
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
  });

  const apply = (events: DecodedEvent[]) => db.transaction((trx) => applyChunk(trx, events, 'notifications'));
  /** A Relworx callback; its id is what the receiver derives: the signed fields (reference, attempt, status). */
  const callback = (reference: string, fields: Record<string, unknown>) => {
    const body = { customer_reference: reference, internal_reference: 'RWX-1', status: 'success', amount: 50000, currency: 'UGX', ...fields };
    return accepted('relworx_payment', JSON.stringify(body), `relworx_payment:${reference}:${body.internal_reference}:${body.status}`);
  };
  const attempts = async (tradeId: number) =>
    (await db('transactions').where({ trade_id: tradeId, kind: 'mobile_money' }).orderBy('id')).map((row) => [row.provider_reference, row.status]);
  const row = (event: DecodedEvent) => db('webhook_events').where({ event_id: idOf(event) }).first();
  const summary = (results: Awaited<ReturnType<typeof apply>>) => results.map((result) => [result.outcome, result.reason]);

  it('records a success that arrives after a failure failed the trade, and rejects it as payment_after_terminal', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const failed = callback(trade.reference, { internal_reference: 'RWX-1', status: 'failed' });
    const paid = callback(trade.reference, { internal_reference: 'RWX-2' });

    expect(summary(await apply([failed]))).toEqual([['applied', undefined]]);
    const results = await apply([paid]);
    expect(summary(results)).toEqual([['rejected', 'payment_after_terminal']]);
    expect(results[0]!.detail).toBe(`money was received for trade ${trade.id} which is failed: refund or reopen`);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('failed');
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'failed'], ['RWX-2', 'unapplied']]);
    expect(await row(paid)).toEqual(expect.objectContaining({ outcome: 'rejected', reason: 'payment_after_terminal', reason_detail: results[0]!.detail }));
  });

  it('replays a rejected payment_after_terminal under the same id without a second transaction row or any change', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'cancelled' });
    const paid = callback(trade.reference, { internal_reference: 'RWX-7' });
    await apply([paid]);
    const recorded = await db('transactions').where({ trade_id: trade.id });

    expect(summary(await apply([paid]))).toEqual([['rejected', 'payment_after_terminal']]);
    expect(await db('transactions').where({ trade_id: trade.id })).toEqual(recorded);
    expect(recorded).toHaveLength(1);
  });

  it('never fails a paid trade: a failure after a recorded success is recorded beside it and stale payment_already_received', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const paid = callback(trade.reference, { internal_reference: 'RWX-1', msisdn: '256700000001' });
    const failed = callback(trade.reference, { internal_reference: 'RWX-2', status: 'failed', msisdn: '256700000002' });

    expect(summary(await apply([paid, failed]))).toEqual([
      ['applied', undefined],
      ['stale', 'payment_already_received'],
    ]);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('processing');
    expect((await db('transactions').where({ trade_id: trade.id }).orderBy('id')).map((t) => [t.provider_reference, t.status, t.msisdn])).toEqual([
      ['RWX-1', 'completed', '256700000001'],
      ['RWX-2', 'failed', '256700000002'],
    ]);
  });

  it('leaves the record of a completed attempt exactly as it was when a failure is reported for the same internal reference', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    await apply([callback(trade.reference, { internal_reference: 'RWX-1', msisdn: '256700000001' })]);
    const recorded = await db('transactions').where({ trade_id: trade.id });
    expect(summary(await apply([callback(trade.reference, { internal_reference: 'RWX-1', status: 'failed', amount: 49000, msisdn: '256700000009' })]))).toEqual([
      ['stale', 'payment_already_received'],
    ]);
    expect(await db('transactions').where({ trade_id: trade.id })).toEqual(recorded);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('processing');
  });

  it('applies the genuine callback right behind a copy rejected for its amount in the same chunk', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const forged = callback(trade.reference, { amount: 1 });
    const genuine = callback(trade.reference, {});
    expect(summary(await apply([forged, genuine]))).toEqual([
      ['rejected', 'amount_mismatch'],
      ['applied', undefined],
    ]);
    expect(await row(genuine)).toEqual(expect.objectContaining({ outcome: 'applied', reason: null, reason_detail: null, deliveries: 2 }));
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'completed']]);
  });

  it('keeps in the audit row the genuine copy that was applied, not the copy rejected before it for its amount', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const forged = callback(trade.reference, { amount: 1 });
    const genuine = callback(trade.reference, {});
    if (!forged.ok || !genuine.ok) throw new Error('test events must decode');
    genuine.envelope.received_at = forged.envelope.received_at + 5000;

    expect(summary(await apply([forged]))).toEqual([['rejected', 'amount_mismatch']]);
    expect(summary(await apply([genuine]))).toEqual([['applied', undefined]]);
    expect(await row(genuine)).toEqual(
      expect.objectContaining({
        outcome: 'applied',
        body: genuine.envelope.body,
        offset: genuine.source.offset,
        received_at: new Date(genuine.envelope.received_at),
        trade_id: String(trade.id),
        trade_reference: trade.reference,
        deliveries: 2,
      }),
    );
  });

  it('records a second payment with another internal reference and rejects it as duplicate_payment', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const results = await apply([callback(trade.reference, { internal_reference: 'RWX-1' }), callback(trade.reference, { internal_reference: 'RWX-2' })]);
    expect(summary(results)).toEqual([
      ['applied', undefined],
      ['rejected', 'duplicate_payment'],
    ]);
    expect(results[1]!.detail).toBe(`trade ${trade.id} was already paid by internal reference RWX-1; RWX-2 is a second payment: refund it`);
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'completed'], ['RWX-2', 'unapplied']]);
  });

  it('never calls a payment the trade did not take its payment: two payments after a failure are each payment_after_terminal, replays included', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const first = callback(trade.reference, { internal_reference: 'RWX-1' });
    const second = callback(trade.reference, { internal_reference: 'RWX-2' });
    const detail = `money was received for trade ${trade.id} which is failed: refund or reopen`;
    await apply([callback(trade.reference, { internal_reference: 'RWX-0', status: 'failed' })]);

    for (const round of ['first', 'replayed']) {
      const results = [...(await apply([first])), ...(await apply([second]))];
      expect([round, results.map((result) => [result.outcome, result.reason, result.detail])]).toEqual([
        round,
        [
          ['rejected', 'payment_after_terminal', detail],
          ['rejected', 'payment_after_terminal', detail],
        ],
      ]);
    }
    expect(await attempts(trade.id)).toEqual([['RWX-0', 'failed'], ['RWX-1', 'unapplied'], ['RWX-2', 'unapplied']]);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('failed');
  });

  it('applies a payment replayed after its trade was reopened, although another payment the trade did not take exists', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const first = callback(trade.reference, { internal_reference: 'RWX-1' });
    const second = callback(trade.reference, { internal_reference: 'RWX-2' });
    await apply([callback(trade.reference, { internal_reference: 'RWX-0', status: 'failed' })]);
    await apply([first]);
    await apply([second]);

    await db('trades').where({ id: trade.id }).update({ status: 'pending' });
    expect(summary(await apply([first]))).toEqual([['applied', undefined]]);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('processing');
    expect(await row(first)).toEqual(expect.objectContaining({ outcome: 'applied', reason: null, reason_detail: null }));
    const replayed = await apply([second]);
    expect(replayed.map((result) => [result.reason, result.detail])).toEqual([
      ['duplicate_payment', `trade ${trade.id} was already paid by internal reference RWX-1; RWX-2 is a second payment: refund it`],
    ]);
    expect(await attempts(trade.id)).toEqual([['RWX-0', 'failed'], ['RWX-1', 'completed'], ['RWX-2', 'unapplied']]);
  });

  it('takes the same attempt under a second event id as stale payment_already_received: no second notification, no payment after its completion', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const body = { customer_reference: trade.reference, internal_reference: 'RWX-1', status: 'success', amount: 50000, currency: 'UGX' };
    const signed = accepted('relworx_payment', JSON.stringify(body), `relworx_payment:${trade.reference}:RWX-1:signed`);
    const standard = accepted('relworx_payment', JSON.stringify(body), 'relworx_payment:msg_standard_1');
    const later = accepted('relworx_payment', JSON.stringify(body), 'relworx_payment:msg_standard_2');
    const detail = `internal reference RWX-1 is already recorded as the payment of trade ${trade.id}; this report of it changes nothing`;

    expect(summary(await apply([signed]))).toEqual([['applied', undefined]]);
    expect((await apply([standard])).map((result) => [result.outcome, result.reason, result.detail])).toEqual([['stale', 'payment_already_received', detail]]);
    await apply([accepted('buy_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0x1' }))]);
    expect((await apply([later])).map((result) => [result.outcome, result.reason])).toEqual([['stale', 'payment_already_received']]);

    expect(await db('outbox').whereIn('event_id', [idOf(signed), idOf(standard), idOf(later)])).toHaveLength(1);
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'completed']]);
  });

  it('never makes an attempt an operator marked refunded the payment of its reopened trade when its event is replayed', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'cancelled' });
    const late = callback(trade.reference, { internal_reference: 'RWX-1' });
    expect(summary(await apply([late]))).toEqual([['rejected', 'payment_after_terminal']]);
    await db('transactions').where({ trade_id: trade.id, provider_reference: 'RWX-1' }).update({ status: 'refunded' });
    await db('trades').where({ id: trade.id }).update({ status: 'pending' });

    expect(summary(await apply([late]))).toEqual([['stale', 'payment_already_received']]);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('pending');
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'refunded']]);
  });

  it('fails an unpaid trade on a failed callback, as before', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    expect(summary(await apply([callback(trade.reference, { status: 'failed' })]))).toEqual([['applied', undefined]]);
    expect((await db('trades').where({ id: trade.id }).first())).toEqual(expect.objectContaining({ status: 'failed', failed_at: expect.any(Date) }));
  });

  it('rejects a success without an amount as amount_mismatch, also when it replays a callback rejected for its amount', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const wrong = callback(trade.reference, { amount: 1 });
    const stripped = callback(trade.reference, { amount: undefined });
    expect(idOf(stripped)).toBe(idOf(wrong));

    expect(summary(await apply([wrong]))).toEqual([['rejected', 'amount_mismatch']]);
    expect(summary(await apply([stripped]))).toEqual([['rejected', 'amount_mismatch']]);
    expect(await row(stripped)).toEqual(expect.objectContaining({ reason: 'amount_mismatch', reason_detail: `Relworx success for trade ${trade.id} carries no amount`, deliveries: 2 }));
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('pending');
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'unverified']]);
  });

  it('records a success rejected for its amount as an unverified attempt, with the amount and currency it claimed', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    expect(summary(await apply([callback(trade.reference, { amount: 49000, currency: 'KES' })]))).toEqual([['rejected', 'amount_mismatch']]);
    expect(await db('transactions').where({ trade_id: trade.id })).toEqual([
      expect.objectContaining({ kind: 'mobile_money', provider_reference: 'RWX-1', status: 'unverified', amount: '49000.000000000000000000', currency: 'KES' }),
    ]);
  });

  it('records a Relworx success for a sell trade as an unverified attempt of that trade', async () => {
    const trade = await insertTrade(db, { trade_type: 'sell' });
    expect(summary(await apply([callback(trade.reference, {})]))).toEqual([['rejected', 'type_mismatch']]);
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'unverified']]);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('pending');
  });

  it('takes a payment under another reference than an unverified one as a second payment, and the genuine copy of the unverified one as the payment', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    const unverified = callback(trade.reference, { internal_reference: 'RWX-1', amount: 49000 });
    const other = callback(trade.reference, { internal_reference: 'RWX-2' });
    await apply([unverified]);

    const results = await apply([other]);
    expect(results.map((result) => [result.reason, result.detail])).toEqual([
      ['duplicate_payment', `trade ${trade.id} has a payment under internal reference RWX-1 whose amount could not be verified; RWX-2 is a second payment: refund one of them`],
    ]);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('pending');

    expect(summary(await apply([callback(trade.reference, { internal_reference: 'RWX-1' })]))).toEqual([['applied', undefined]]);
    expect(await attempts(trade.id)).toEqual([['RWX-1', 'completed'], ['RWX-2', 'unapplied']]);
    expect((await db('transactions').where({ trade_id: trade.id, provider_reference: 'RWX-1' }).first()).amount).toBe('50000.000000000000000000');
  });

  it('compares currencies as ISO codes, whatever their case and surrounding spaces', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy' });
    expect(summary(await apply([callback(trade.reference, { currency: ' ugx' })]))).toEqual([['applied', undefined]]);
    expect(await db('transactions').where({ trade_id: trade.id })).toEqual([expect.objectContaining({ status: 'completed', currency: 'UGX' })]);
  });
});

describe('applying a chunk: the audit row', () => {
  let db: Knex;
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
  });

  const apply = (events: DecodedEvent[]) => db.transaction((trx) => applyChunk(trx, events, 'notifications'));

  it('describes the valid delivery applied right behind an unreadable one under the same id in the chunk', async () => {
    const trade = await insertTrade(db, { trade_type: 'sell' });
    const unreadable: DecodedEvent = {
      ok: false,
      reason: 'schema_invalid',
      detail: 'missing or invalid fields: trade_id',
      eventId: 'trade_status:msg-unreadable-first',
      webhookType: 'trade_status',
      body: '{"trade_id":"oops","status":"processing"}',
      source: { topic: 'events', partition: 0, offset: '1001' },
    };
    const valid = accepted('trade_status', JSON.stringify({ trade_id: trade.id, status: 'processing' }), 'trade_status:msg-unreadable-first');

    expect((await apply([unreadable, valid])).map((result) => [result.outcome, result.reason])).toEqual([
      ['rejected', 'schema_invalid'],
      ['applied', undefined],
    ]);
    expect(await db('webhook_events').where({ event_id: idOf(valid) }).first()).toEqual(
      expect.objectContaining({ outcome: 'applied', trade_id: String(trade.id), body: (valid as { envelope: { body: string } }).envelope.body, offset: valid.source.offset }),
    );
  });
});

describe('applying a chunk: event id collisions', () => {
  let db: Knex;
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
  });

  const apply = (events: DecodedEvent[]) => db.transaction((trx) => applyChunk(trx, events, 'notifications'));

  it('rejects an id reused by another webhook type as event_id_collision and leaves the first row exactly as it was', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const first = accepted('trade_status', JSON.stringify({ trade_id: trade.id, status: 'processing' }), 'msg_shared');
    const second = accepted('buy_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0x2' }), 'msg_shared');
    await apply([first]);
    const before = await db('webhook_events').where({ event_id: 'msg_shared' }).first();

    const results = await apply([second]);
    expect(results.map((result) => [result.outcome, result.reason, result.detail])).toEqual([
      ['rejected', 'event_id_collision', `event id msg_shared is already taken by a trade_status event of trade ${trade.id}`],
    ]);
    expect(await db('webhook_events').where({ event_id: 'msg_shared' }).first()).toEqual(before);
    expect((await db('trades').where({ id: trade.id }).first()).status).toBe('processing');
  });

  it('within one chunk, takes an id reused by another trade as a collision and a repeat of the same event as a duplicate', async () => {
    const one = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const other = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const event = accepted('buy_completion', JSON.stringify({ trade_id: one.id, status: 'failed' }), 'msg_chunk');
    const reused = accepted('buy_completion', JSON.stringify({ trade_id: other.id, status: 'failed' }), 'msg_chunk');

    expect((await apply([event, reused, event])).map((result) => [result.outcome, result.reason])).toEqual([
      ['applied', undefined],
      ['rejected', 'event_id_collision'],
      ['duplicate', undefined],
    ]);
    expect(await db('webhook_events').where({ event_id: 'msg_chunk' }).first()).toEqual(expect.objectContaining({ trade_id: String(one.id), deliveries: 2 }));
    expect((await db('trades').where({ id: other.id }).first()).status).toBe('processing');
  });

  it("judges an id already stored by its row: a retry queued behind another trade's event under that id is the duplicate, the other the collision", async () => {
    const one = await insertTrade(db, { trade_type: 'sell' });
    const other = await insertTrade(db, { trade_type: 'sell' });
    const event = accepted('trade_status', JSON.stringify({ trade_id: one.id, status: 'processing' }), 'trade_status:msg-stored-first');
    const reused = accepted('trade_status', JSON.stringify({ trade_id: other.id, status: 'processing' }), 'trade_status:msg-stored-first');
    await apply([event]);

    expect((await apply([reused, event])).map((result) => [result.outcome, result.reason, result.detail])).toEqual([
      ['rejected', 'event_id_collision', `event id trade_status:msg-stored-first is already taken by a trade_status event of trade ${one.id}`],
      ['duplicate', undefined, undefined],
    ]);
    expect(await db('webhook_events').where({ event_id: 'trade_status:msg-stored-first' }).first()).toEqual(
      expect.objectContaining({ outcome: 'applied', trade_id: String(one.id), deliveries: 2 }),
    );
    expect((await db('trades').where({ id: other.id }).first()).status).toBe('pending');
  });

  it('takes the id of an unreadable delivery as the first trade named under it: a later delivery for another trade collides, never counts as a duplicate', async () => {
    const one = await insertTrade(db, { trade_type: 'sell' });
    const other = await insertTrade(db, { trade_type: 'sell' });
    const unreadable: DecodedEvent = {
      ok: false,
      reason: 'schema_invalid',
      detail: 'missing or invalid fields: trade_id',
      eventId: 'trade_status:msg-unreadable-owner',
      webhookType: 'trade_status',
      body: '{"trade_id":"oops","status":"processing"}',
      source: { topic: 'events', partition: 0, offset: '2001' },
    };
    const first = accepted('trade_status', JSON.stringify({ trade_id: one.id, status: 'processing' }), 'trade_status:msg-unreadable-owner');
    const second = accepted('trade_status', JSON.stringify({ trade_id: other.id, status: 'processing' }), 'trade_status:msg-unreadable-owner');

    expect((await apply([unreadable, first, second])).map((result) => [result.outcome, result.reason])).toEqual([
      ['rejected', 'schema_invalid'],
      ['applied', undefined],
      ['rejected', 'event_id_collision'],
    ]);
    expect((await db('trades').where({ id: other.id }).first()).status).toBe('pending');
  });

  it("processes the replay of a rejected event although another trade's event under its id comes first in the chunk", async () => {
    const other = await insertTrade(db, { trade_type: 'sell' });
    const missing = 900_000_123;
    const event = accepted('trade_status', JSON.stringify({ trade_id: missing, status: 'processing' }), 'trade_status:msg-replayed-behind');
    const reused = accepted('trade_status', JSON.stringify({ trade_id: other.id, status: 'processing' }), 'trade_status:msg-replayed-behind');
    expect((await apply([event])).map((result) => result.reason)).toEqual(['trade_not_found']);
    await db('trades').insert({ id: missing, reference: `TRADE-${missing}`, user_id: 1, trade_type: 'sell', status: 'pending' });

    expect((await apply([reused, event])).map((result) => [result.outcome, result.reason, result.detail])).toEqual([
      ['rejected', 'event_id_collision', `event id trade_status:msg-replayed-behind is already taken by a trade_status event of trade ${missing}`],
      ['applied', undefined, undefined],
    ]);
    expect((await db('trades').where({ id: missing }).first()).status).toBe('processing');
    expect((await db('trades').where({ id: other.id }).first()).status).toBe('pending');
  });
});
