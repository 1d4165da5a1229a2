import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import type { Knex } from 'knex';
import type { Admin, Consumer } from 'kafkajs';
import { onCleanup } from '../support/cleanup';
import { envelopeFor, eventWriter } from '../support/events';
import { testAdmin } from '../support/kafka';
import { uniqueName } from '../support/names';
import { createTestTopics, migratedDatabase, startTestProcessor, testKafka, type TestTopics } from '../support/processor';
import { waitFor } from '../support/wait-for';
import { FAULT_SEED } from './seeded-random';

const kafka = testKafka();
const FIAT = { amount: '50000', currency: 'UGX' };
const CRYPTO = { amount: '0.001', currency: 'BTC' };

/**
 * One generated webhook. Relworx attempts vary in status, internal reference (several
 * attempts may share one: its retries), in the unsigned amount and currency, and in the
 * signature scheme they came under (Relworx's own or Standard Webhooks: the same callback
 * then has another event id). Other senders
 * report what cannot fail a paid trade on their own authority: a failed transfer or an
 * operator's `failed` would, and are not what these rules are about.
 */
type Step =
  | { kind: 'relworx'; status: 'success' | 'failed'; reference: string; amount: 'right' | 'absent' | 'wrong'; currency: 'right' | 'absent'; scheme: 'relworx' | 'standard' }
  | { kind: 'buy_completion' }
  | { kind: 'trade_status'; status: 'processing' | 'completed' | 'cancelled' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('relworx' as const),
      status: fc.constantFrom('success' as const, 'failed' as const),
      reference: fc.constantFrom('RWX-1', 'RWX-2', 'RWX-3'),
      // Mostly right: sequences of several genuine payments are where the rules meet.
      amount: fc.oneof({ weight: 3, arbitrary: fc.constant('right' as const) }, fc.constant('absent' as const), fc.constant('wrong' as const)),
      currency: fc.oneof({ weight: 3, arbitrary: fc.constant('right' as const) }, fc.constant('absent' as const)),
      scheme: fc.constantFrom('relworx' as const, 'standard' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'buy_completion' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('trade_status' as const), status: fc.constantFrom('processing' as const, 'completed' as const, 'cancelled' as const) }) },
);

/** A resend is the latest Relworx callback before it again, under the other signature scheme (so under another event id). */
function resendUnderOtherScheme(drawn: Array<Step | { kind: 'resend' }>): Step[] {
  const steps: Step[] = [];
  for (const s of drawn) {
    if (s.kind !== 'resend') steps.push(s);
    else {
      const last = [...steps].reverse().find((earlier): earlier is Extract<Step, { kind: 'relworx' }> => earlier.kind === 'relworx');
      if (last) steps.push({ ...last, scheme: last.scheme === 'relworx' ? 'standard' : 'relworx' });
    }
  }
  return steps;
}

const scenario = fc.record({
  initial: fc.constantFrom('pending', 'processing'),
  steps: fc
    .array(fc.oneof({ weight: 6, arbitrary: step }, { weight: 1, arbitrary: fc.constant({ kind: 'resend' as const }) }), { minLength: 1, maxLength: 8 })
    .map(resendUnderOtherScheme)
    .filter((steps) => steps.length > 0),
});

const isPayment = (s: Step): s is Extract<Step, { kind: 'relworx' }> & { status: 'success' } => s.kind === 'relworx' && s.status === 'success';
const isValidPayment = (s: Step): boolean => isPayment(s) && s.amount === 'right' && s.currency === 'right';

/**
 * The event id of a Relworx callback: its copies under one scheme share it whatever amount they
 * carry; under Standard Webhooks it is the sender's webhook-id, another id.
 */
const relworxIdOf = (trade: { reference: string }, reference: string, status: string, scheme: string) =>
  `relworx_payment:${trade.reference}:${reference}:${status}${scheme === 'standard' ? ':standard' : ''}`;
const successIdsOf = (trade: { reference: string }, reference: string) => ['relworx', 'standard'].map((scheme) => relworxIdOf(trade, reference, 'success', scheme));

/**
 * The envelope the receiver would write. Ids follow its rule: a Relworx callback's id covers
 * only the fields Relworx signs (reference, attempt, status), so copies that differ in the
 * amount share it; another sender's retry of the same body keeps its id.
 */
function envelopeOf(s: Step, trade: { id: string; reference: string }) {
  switch (s.kind) {
    case 'relworx': {
      const body: Record<string, unknown> = { status: s.status, customer_reference: trade.reference, internal_reference: s.reference, provider: 'MTN_UGANDA' };
      if (s.amount !== 'absent') body.amount = s.amount === 'right' ? Number(FIAT.amount) : 49_000;
      if (s.currency !== 'absent') body.currency = FIAT.currency;
      return { key: trade.reference, envelope: envelopeFor('relworx_payment', JSON.stringify(body), relworxIdOf(trade, s.reference, s.status, s.scheme)) };
    }
    case 'buy_completion': {
      const body = `{"trade_id":${trade.id},"status":"completed","transaction_hash":"0x${trade.id}","crypto_amount":${CRYPTO.amount}}`;
      return { key: trade.id, envelope: envelopeFor('buy_completion', body, `buy_completion:${trade.id}:completed`) };
    }
    case 'trade_status':
      return { key: trade.id, envelope: envelopeFor('trade_status', JSON.stringify({ trade_id: Number(trade.id), status: s.status }), `trade_status:${trade.id}:${s.status}`) };
  }
}

/**
 * The test's own record of every change to trades and transactions, kept by triggers the test
 * installs (not the migrations): a change the processor makes twice shows as two entries.
 */
async function installHistory(db: Knex): Promise<void> {
  await db.raw(`create table money_history (seq bigserial primary key, trade_id bigint not null, entry text not null, source text)`);
  await db.raw(`
    create function record_trade_change() returns trigger language plpgsql as $$
    begin
      if new.status is distinct from old.status or new.crypto_amount is distinct from old.crypto_amount or new.fiat_amount is distinct from old.fiat_amount then
        insert into money_history (trade_id, entry, source)
        values (new.id, 'trade ' || old.status || ' -> ' || new.status || ' ' || coalesce(new.crypto_amount::text, '-') || ' ' || coalesce(new.fiat_amount::text, '-'),
                new.metadata -> 'last_webhook' ->> 'webhook_type');
      end if;
      return new;
    end $$`);
  await db.raw('create trigger money_history_trades after update on trades for each row execute function record_trade_change()');
  await db.raw(`
    create function record_transaction_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' or new.status is distinct from old.status or new.amount is distinct from old.amount then
        insert into money_history (trade_id, entry) values (new.trade_id, 'transaction ' || new.kind || ' ' || coalesce(new.provider_reference, '-') || ' ' || new.status);
      end if;
      return new;
    end $$`);
  await db.raw('create trigger money_history_transactions after insert or update on transactions for each row execute function record_transaction_change()');
}

/** Event ids seen on the dead-letter and notification topics, read as a consumer of the platform would. */
async function topicWatcher(topics: TestTopics): Promise<{ deadLettered: Set<string>; notified: Set<string> }> {
  const deadLettered = new Set<string>();
  const notified = new Set<string>();
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('money-watch'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  onCleanup(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topics.deadLetters, topics.notifications], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const header = (name: string) => message.headers?.[name]?.toString();
      if (topic === topics.deadLetters) deadLettered.add(header('dlq_event_id')!);
      else notified.add(header('event_id')!);
    },
  });
  return { deadLettered, notified };
}

describe('faults: Relworx payment sequences in every order', () => {
  let db: Knex;
  let topics: TestTopics;
  let write: Awaited<ReturnType<typeof eventWriter>>;
  let watched: Awaited<ReturnType<typeof topicWatcher>>;
  let admin: Admin;
  let tradeCount = 0;

  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    await installHistory(db);
    // One partition: the processor sees the events in the generated order, whatever their keys.
    topics = await createTestTopics(1);
    write = await eventWriter(kafka, topics.events);
    watched = await topicWatcher(topics);
    admin = await testAdmin(kafka);
    await startTestProcessor({ topics, db, schema: database.schema, env: { OUTBOX_POLL_MS: '100' } });
  });

  /** Until the processor committed everything written so far (it commits after the DLQ write). */
  async function processed(): Promise<void> {
    const [end] = await admin.fetchTopicOffsets(topics.events);
    await waitFor('the processor to commit every event', async () => {
      const [committed] = await admin.fetchOffsets({ groupId: topics.group, topics: [topics.events] });
      return Number(committed!.partitions[0]!.offset) >= Number(end!.high) ? true : undefined;
    });
  }

  /** Until every notification of `eventIds` in the outbox was marked sent and read back. */
  async function notifiedAll(eventIds: string[]): Promise<void> {
    await waitFor('the notifications published', async () => {
      const rows = await db('outbox').whereIn('event_id', eventIds).select('event_id', 'sent_at');
      return rows.every((row) => row.sent_at !== null && watched.notified.has(row.event_id)) ? true : undefined;
    });
  }

  /** Whether each of `eventIds` was notified or dead-lettered, given the watcher a few seconds to read both topics. */
  async function handled(eventIds: string[]): Promise<Array<{ id: string; handled: boolean }>> {
    const verdicts = () => eventIds.map((id) => ({ id, handled: watched.notified.has(id) || watched.deadLettered.has(id) }));
    for (let waited = 0; waited < 5000 && verdicts().some((verdict) => !verdict.handled); waited += 100) await sleep(100);
    return verdicts();
  }

  async function snapshot(tradeId: string) {
    return {
      trade: await db('trades').where({ id: tradeId }).first(),
      transactions: await db('transactions').where({ trade_id: tradeId }).orderBy('id'),
      history: await db('money_history').where({ trade_id: tradeId }).orderBy('seq'),
      outbox: await db('outbox').where('payload', '@>', JSON.stringify({ trade_id: tradeId })).orderBy('id'),
    };
  }

  it('never fails a paid trade, records every payment once, dead-letters every payment it did not apply, and replays to no change', async () => {
    process.stdout.write(`\nMoney sequences seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);
    await fc.assert(
      fc.asyncProperty(scenario, async ({ initial, steps }) => {
        tradeCount += 1;
        const [row] = await db('trades')
          .insert({ reference: `MONEY-${tradeCount}-${uniqueName('t')}`, user_id: tradeCount, trade_type: 'buy', status: initial, crypto_amount: CRYPTO.amount, crypto_currency: CRYPTO.currency, fiat_amount: FIAT.amount, fiat_currency: FIAT.currency })
          .returning(['id', 'reference']);
        const trade = { id: String(row.id), reference: row.reference as string };
        const events = steps.map((s) => envelopeOf(s, trade));
        const eventIds = [...new Set(events.map(({ envelope }) => envelope.event_id))];

        await write.write(events);
        await processed();
        await notifiedAll(eventIds);
        const first = await snapshot(trade.id);

        // A paid trade is never failed: once a payment is recorded, no transition to failed follows
        // (the test's history, across transactions) ...
        const paidAt = first.history.findIndex((entry) => /^transaction mobile_money \S+ completed$/.test(entry.entry));
        if (paidAt >= 0) expect(first.history.slice(paidAt).filter((entry) => / -> failed /.test(entry.entry))).toEqual([]);
        // ... and within one: only a Relworx failure can fail these trades, so a failed trade took
        // no payment, and saw its first Relworx failure before any payment it could have taken (one
        // that no unverified success of another attempt came before: that makes it a second payment).
        const attempts: Array<{ provider_reference: string; status: string }> = first.transactions.filter((t: { kind: string }) => t.kind === 'mobile_money');
        if (first.trade.status === 'failed') {
          expect(attempts.filter((t) => t.status === 'completed')).toEqual([]);
          const firstFailure = steps.findIndex((s) => s.kind === 'relworx' && s.status === 'failed');
          const takeable = (s: Step, index: number) =>
            isValidPayment(s) && !steps.slice(0, index).some((before) => isPayment(before) && !isValidPayment(before) && before.reference !== (s as Extract<Step, { kind: 'relworx' }>).reference);
          expect(steps.slice(0, firstFailure).filter(takeable)).toEqual([]);
        }

        // Every attempt that carried the trade's money has exactly one row, which records the money:
        // `completed` when its callback was applied (the trade's payment, one at most), `unapplied`
        // when the trade did not take it; no other attempt records money. An attempt whose every
        // success claimed another amount or none is recorded `unverified`.
        const referenceOf = (s: Step) => (s as Extract<Step, { kind: 'relworx' }>).reference;
        const paidReferences = [...new Set(steps.filter(isValidPayment).map(referenceOf))].sort();
        const claimedReferences = [...new Set(steps.filter(isPayment).map(referenceOf))].filter((reference) => !paidReferences.includes(reference)).sort();
        const statusOf = (reference: string) => attempts.filter((t) => t.provider_reference === reference).map((t) => t.status);
        const applied = new Set((await db('webhook_events').whereIn('event_id', eventIds).where({ outcome: 'applied' })).map((row) => row.event_id as string));
        for (const reference of paidReferences) {
          const took = successIdsOf(trade, reference).some((id) => applied.has(id));
          expect([reference, statusOf(reference)]).toEqual([reference, [took ? 'completed' : 'unapplied']]);
        }
        expect(attempts.filter((t) => ['completed', 'unapplied'].includes(t.status)).map((t) => t.provider_reference).sort()).toEqual(paidReferences);
        expect(attempts.filter((t) => t.status === 'completed').length).toBeLessThanOrEqual(1);
        expect(attempts.filter((t) => t.status === 'unverified').map((t) => t.provider_reference).sort()).toEqual(claimedReferences);
        expect(new Set(attempts.map((t) => t.provider_reference)).size).toBe(attempts.length);

        // Money the trade did not take is never counted as its payment: a second payment or a
        // failure that did not fail the trade names an attempt that is the payment, or, for a
        // second payment beside an unverified one, the attempt that was unverified then. That one
        // may have been verified since: the trade then took it (`completed`), or did not because
        // a third attempt was unverified by that time (`unapplied`).
        const reasons = await db('webhook_events').whereIn('event_id', eventIds).whereIn('reason', ['duplicate_payment', 'payment_already_received']);
        for (const { reason, reason_detail } of reasons) {
          const payer = /internal reference (\S+?)[;\s]/.exec(reason_detail)![1]!;
          const besideUnverified = reason === 'duplicate_payment' && /could not be verified/.test(reason_detail);
          const counted = besideUnverified ? ['completed', 'unverified', 'unapplied'] : ['completed'];
          expect([reason_detail, statusOf(payer).filter((status) => counted.includes(status))]).toEqual([reason_detail, statusOf(payer)]);
          expect(statusOf(payer)).toHaveLength(1);
        }

        // Every payment either moved the trade (its notification was published) or was
        // dead-lettered, unless it was another copy of the attempt already recorded as the payment
        // (stale, named above). The trade was told of its payment once, whatever the copies.
        const paymentIds = [...new Set(steps.flatMap((s, index) => (isPayment(s) ? [events[index]!.envelope.event_id] : [])))];
        const copies = new Set((await db('webhook_events').whereIn('event_id', paymentIds).where({ outcome: 'stale', reason: 'payment_already_received' })).map((row) => row.event_id as string));
        const reported = paymentIds.filter((id) => !copies.has(id));
        expect(await handled(reported)).toEqual(reported.map((id) => ({ id, handled: true })));
        const successIds = new Set(paidReferences.flatMap((reference) => successIdsOf(trade, reference)));
        expect(first.outbox.filter((row: { event_id: string }) => successIds.has(row.event_id))).toHaveLength(attempts.filter((t) => t.status === 'completed').length);

        // The agreed amounts are never overwritten.
        expect([first.trade.crypto_amount, first.trade.fiat_amount]).toEqual(['0.001000000000000000', '50000.000000000000000000']);

        // The whole sequence again, under the same ids: rejected events are processed again, and change nothing.
        await write.write(events);
        await processed();
        await sleep(200);
        expect(await snapshot(trade.id)).toEqual(first);
      }),
      { seed: FAULT_SEED, numRuns: 100, endOnFailure: true },
    );
  });
});
