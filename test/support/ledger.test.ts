import type { WebhookType } from '../../schemas/webhook-catalog';
import type { Knex } from 'knex';
import { insertPendingBuyTrades } from '../../scripts/harness/pending-trades';
import { buyCompletion, serializePayload, tradeStatus } from '../../sender';
import { envelopeFor, eventWriter } from './events';
import { installChangeLog } from './change-log';
import { Ledger, type LedgerSummary, type SentEvent } from './ledger';
import { createTestTopics, migratedDatabase, startTestProcessor, testKafka, type TestTopics } from './processor';
import { waitFor } from './wait-for';

const kafka = testKafka();

interface Applied {
  db: Knex;
  topics: TestTopics;
  ledger: Ledger;
  reconcile(): Promise<LedgerSummary>;
}

/**
 * Trades 1 and 2, each sent a progress update and its completion straight to the events topic,
 * applied once by a real processor, with the ledger's change log installed before. The tests
 * then change the tables by hand as a faulty processor would, and read the ledger.
 */
async function appliedOnce(): Promise<Applied> {
  const { db, schema } = await migratedDatabase();
  await insertPendingBuyTrades(db, { count: 2, referencePrefix: 'LEDGER', users: 2 });
  await installChangeLog(db, schema);
  const topics = await createTestTopics();
  const ledger = new Ledger('hand-made faults');
  const writes: Array<{ key: string; envelope: ReturnType<typeof envelopeFor> }> = [];
  for (const tradeId of [1, 2]) {
    const events: Array<SentEvent & { type: WebhookType; body: string }> = [
      {
        key: `${tradeId}:progress`,
        tradeId,
        type: 'trade_status',
        body: serializePayload(tradeStatus({ tradeId, status: 'processing', metadata: { ledger_progress: `${tradeId}` } })),
        effect: { metadata: { key: 'ledger_progress', value: `${tradeId}` } },
      },
      {
        key: `${tradeId}:completion`,
        tradeId,
        type: 'buy_completion',
        body: serializePayload(buyCompletion({ tradeId, cryptoAmount: '0.001', transactionHash: `0xfeed${tradeId}` })),
        effect: { status: 'completed', transaction: { kind: 'crypto_transfer', column: 'transaction_hash', value: `0xfeed${tradeId}` } },
      },
    ];
    for (const event of events) {
      const envelope = envelopeFor(event.type, event.body);
      writes.push({ key: String(tradeId), envelope });
      ledger.record(event, { status: 202, eventId: envelope.event_id });
    }
  }
  await startTestProcessor({ topics, db, schema });
  await (await eventWriter(kafka, topics.events)).write(writes);
  await waitFor('four notifications sent', async () => {
    const [row] = await db('outbox').whereNotNull('sent_at').count<Array<{ count: string }>>('* as count');
    return Number(row!.count) === 4 ? true : undefined;
  });
  return { db, topics, ledger, reconcile: () => ledger.reconcile({ db, kafka, topics }) };
}

describe('fault ledger: each column can show a failure', () => {
  it('reconciles a stream the processor applied once to all applied and notified, none lost or double-applied', async () => {
    const { reconcile } = await appliedOnce();
    expect(await reconcile()).toMatchObject({ accepted: 4, applied: 4, notified: 4, lost: 0, doubleApplied: 0, redelivered: 0, duplicatesSuppressed: 0 });
  });

  it('shows a trade changed again by an event it already applied as double-applied', async () => {
    const { db, reconcile } = await appliedOnce();
    // What a second application of trade 1's completion writes: the same last webhook, anew.
    await db.raw(`update trades set metadata = metadata || jsonb_build_object('last_webhook', metadata->'last_webhook'), updated_at = now() where id = 1`);
    expect(await reconcile()).toMatchObject({ applied: 4, lost: 0, doubleApplied: 1 });
  });

  it('shows a progress update applied again after its completion as double-applied, though it writes what the trade already holds', async () => {
    const { db, reconcile } = await appliedOnce();
    const progress = await db('webhook_events').where({ trade_id: 2, webhook_type: 'trade_status' }).first();
    // Its metadata again, and its id as the trade's last webhook, in a transaction of its own.
    await db.raw(`update trades set metadata = metadata || jsonb_build_object('ledger_progress', '2', 'last_webhook', jsonb_build_object('event_id', ?::text)) where id = 2`, [
      progress.event_id,
    ]);
    expect(await reconcile()).toMatchObject({ applied: 4, lost: 0, doubleApplied: 1 });
  });

  it('shows a transaction written again by an event already applied as double-applied', async () => {
    const { db, reconcile } = await appliedOnce();
    await db.raw(`update transactions set status = status, updated_at = now() where trade_id = 2`);
    expect(await reconcile()).toMatchObject({ applied: 4, lost: 0, doubleApplied: 1 });
  });

  it('counts an accepted event as lost when its effect is not in the tables, whatever webhook_events records', async () => {
    const { db, reconcile } = await appliedOnce();
    await db('transactions').where({ trade_id: 1 }).delete();
    expect((await db('webhook_events').where({ outcome: 'applied' })).length).toBe(4);
    expect(await reconcile()).toMatchObject({ accepted: 4, applied: 3, notified: 4, lost: 1, doubleApplied: 0 });
  });

  it('counts a record the processor saw twice as redelivered', async () => {
    const { db, reconcile } = await appliedOnce();
    await db('webhook_events').where({ trade_id: 1, webhook_type: 'trade_status' }).increment('deliveries', 1);
    expect(await reconcile()).toMatchObject({ redelivered: 1, duplicatesSuppressed: 1, lost: 0, doubleApplied: 0 });
  });
});
