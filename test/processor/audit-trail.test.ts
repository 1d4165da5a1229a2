import type { Knex } from 'knex';
import { auditTrail, formatAuditTrail, type AuditRow } from '../../processor/audit-trail';
import { insertTrade, migratedDatabase } from '../support/processor';

const at = (seconds: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

function row(fields: Partial<AuditRow> & Pick<AuditRow, 'event_id'>): AuditRow {
  return {
    webhook_type: 'buy_completion',
    trade_id: '7',
    outcome: 'applied',
    reason: null,
    reason_detail: null,
    deliveries: 1,
    topic: 'webhook-events',
    partition: 2,
    offset: '41',
    received_at: at(0),
    processed_at: at(1),
    last_seen_at: at(1),
    ...fields,
  };
}

describe('formatAuditTrail', () => {
  it('says so when there is nothing to show', () => {
    expect(formatAuditTrail([])).toBe('No webhook events found.');
  });

  it('lines the columns up under their titles, a missing time or record as -, and ends no line in spaces', () => {
    const text = formatAuditTrail([
      row({ event_id: 'e1', deliveries: 3 }),
      row({
        event_id: 'undecodable:t:0:5',
        webhook_type: 'relworx_payment',
        trade_id: null,
        outcome: 'rejected',
        reason: 'trade_not_found',
        reason_detail: 'no trade with reference TRADE-9',
        topic: null,
        partition: null,
        offset: null,
        received_at: null,
        processed_at: at(2),
      }),
    ]);
    expect(text.split('\n')).toEqual([
      'received_at               webhook_type     outcome   deliveries  processed_at              event_id           topic           partition  offset  reason           detail',
      '2026-01-01T00:00:00.000Z  buy_completion   applied   3           2026-01-01T00:00:01.000Z  e1                 webhook-events  2          41',
      '-                         relworx_payment  rejected  1           2026-01-01T00:00:02.000Z  undecodable:t:0:5  -               -          -       trade_not_found  no trade with reference TRADE-9',
    ]);
  });
});

describe('auditTrail', () => {
  let db: Knex;
  let trade: { id: number; reference: string };
  let other: { id: number; reference: string };
  beforeAll(async () => {
    ({ db } = await migratedDatabase());
    trade = await insertTrade(db, { trade_type: 'buy' });
    other = await insertTrade(db, { trade_type: 'buy' });
    const event = (eventId: string, fields: Record<string, unknown>) => ({ event_id: eventId, webhook_type: 'buy_completion', outcome: 'applied', body: '{}', deliveries: 1, ...fields });
    await db('webhook_events').insert([
      event('late', { trade_id: trade.id, received_at: at(30), processed_at: at(31) }),
      // Inserted before the event received with it and processed earlier: the order is the query's, not the table's.
      event('tied', { trade_id: trade.id, received_at: at(10), processed_at: at(12) }),
      event('relworx', {
        webhook_type: 'relworx_payment',
        trade_reference: trade.reference,
        outcome: 'rejected',
        reason: 'amount_mismatch',
        reason_detail: 'Relworx amount 1 differs from trade amount 50000',
        topic: 'webhook-events',
        partition: 7,
        offset: '9007199254740993',
        received_at: at(10),
        processed_at: at(11),
      }),
      event('other-trade', { trade_id: other.id, received_at: at(0), processed_at: at(1) }),
      event('unreadable', { webhook_type: 'unknown', outcome: 'rejected', reason: 'undecodable_envelope', received_at: null, processed_at: at(40) }),
    ]);
  });

  it.each([
    ['a trade: its events by id and its Relworx callbacks by reference, oldest first, a tie by processing time', () => ({ tradeId: String(trade.id) }), ['relworx', 'tied', 'late']],
    ['another trade: only its own', () => ({ tradeId: String(other.id) }), ['other-trade']],
    ['one event', () => ({ eventId: 'unreadable' }), ['unreadable']],
    ['one event of the trade', () => ({ tradeId: String(trade.id), eventId: 'late' }), ['late']],
    ['an event of another trade than the one named', () => ({ tradeId: String(trade.id), eventId: 'other-trade' }), []],
    ['a trade with no events', () => ({ tradeId: '9223372036854775807' }), []],
  ])('lists %s', async (_name, filter, expected) => {
    expect((await auditTrail(db, filter())).map((found) => found.event_id)).toEqual(expected);
  });

  it('hands back each column the audit prints, the reason and its detail apart', async () => {
    const [found] = await auditTrail(db, { eventId: 'relworx' });
    expect(found).toEqual({
      event_id: 'relworx',
      webhook_type: 'relworx_payment',
      trade_id: null,
      outcome: 'rejected',
      reason: 'amount_mismatch',
      reason_detail: 'Relworx amount 1 differs from trade amount 50000',
      deliveries: 1,
      topic: 'webhook-events',
      partition: 7,
      offset: '9007199254740993',
      received_at: at(10),
      processed_at: at(11),
      last_seen_at: expect.any(Date),
    });
  });

  it('hands back a trade id as its decimal text', async () => {
    const [found] = await auditTrail(db, { eventId: 'late' });
    expect(found?.trade_id).toBe(String(trade.id));
  });
});
