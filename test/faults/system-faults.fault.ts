import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { testAdmin } from '../support/kafka';
import { tradeChangeCount } from '../support/change-log';
import { Ledger } from '../support/ledger';
import { databaseUnderTest } from '../support/database-outage';
import { ownBroker } from '../support/own-broker';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';
import { PROGRESS_UPDATES, faultSystem, sendEvent, sendStream, tradeEvents, type FaultSystem } from './fault-system';
import { FAULT_SEED, printMoments, scenarioRandom } from './seeded-random';
import { committedOffsets, expectClean, settle, uncommittedRecords } from './settle';

process.stdout.write(`\nFault suite seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);

const EVENTS_PER_TRADE = PROGRESS_UPDATES + 1;

/**
 * Whether the processor has applied events whose offsets its group has not committed: what a
 * kill now would leave to be delivered again. The database is read before the offsets, so a
 * commit in between can only hide applied events, never invent them.
 */
async function appliedAheadOfCommits(system: FaultSystem, admin: Admin): Promise<boolean> {
  const { rows } = await system.db.raw<{ rows: Array<{ partition: number; offset: string }> }>(
    'select partition, max("offset") as offset from webhook_events where topic = ? group by partition',
    [system.topics.events],
  );
  const committed = await committedOffsets(admin, system.topics);
  return rows.some((row) => Number(row.offset) >= (committed.get(row.partition) ?? -1));
}

/**
 * Events the database holds as processed although the group never committed their offsets,
 * counted with the processor dead (the commits cannot move): the next one delivers them again.
 */
async function appliedButUncommitted(system: FaultSystem, admin: Admin): Promise<number> {
  const committed = await committedOffsets(admin, system.topics);
  const { rows } = await system.db.raw<{ rows: Array<{ count: string }> }>(
    `select count(*) as count from webhook_events w
     join unnest(?::int[], ?::bigint[]) as c(partition, committed) on c.partition = w.partition
     where w.topic = ? and w."offset" >= c.committed`,
    [[...committed.keys()], [...committed.values()].map((offset) => Math.max(0, offset)), system.topics.events],
  );
  return Number(rows[0]!.count);
}

/** Polls `check` every few milliseconds until it is true (true) or `timeoutMs` passed (false); the caller acts at once. */
async function untilTrue(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(10);
  }
  return false;
}

describe('faults: nothing acknowledged lost, nothing applied twice', () => {
  it('kill -9 of the processor at seed-chosen moments while events are in flight: redelivered, none applied twice', async () => {
    const chance = scenarioRandom('processor kills');
    const trades = 5000;
    const total = trades * EVENTS_PER_TRADE;
    // Small transactions: a batch of a backlog spans several of them, and the offsets resolved
    // between them are committed every half second, so while a backlog is worked off events are
    // applied ahead of their commits most of the time.
    const system = await faultSystem({ trades, processorEnv: { EVENTS_PER_TRANSACTION: '20' } });
    await system.receiver.start();
    const admin = await testAdmin(system.kafka);
    const ledger = new Ledger(`kill -9 the processor during ${total} events`);
    let streaming = true;
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: trades, rate: 60, concurrency: 32 }).finally(() => (streaming = false));
    // The first processor comes up behind the stream, as after a deployment, so that it too starts
    // with a backlog, as every one started after a kill does.
    const lateByMs = Math.round(chance.between(1000, 4000));
    await sleep(lateByMs);
    const moments = [`first processor started ${lateByMs} ms into the stream`];
    let leftToRedeliver = 0;
    // Three kills, and up to three more while none has yet left an applied event uncommitted.
    for (let kill = 1; kill <= 3 || (leftToRedeliver === 0 && kill <= 6); kill += 1) {
      const processor = await system.processor();
      await processor.start();
      // Killed once it has worked off a seed-chosen share of the backlog it started with, at the
      // first moment it has applied events whose offsets it has not committed.
      const backlog = await uncommittedRecords(admin, system.topics);
      const share = chance.between(0.1, 0.6);
      const changes = Math.max(1, Math.round((share * backlog) / EVENTS_PER_TRADE));
      const changesBefore = await tradeChangeCount(system.db);
      await waitFor(`${changes} more trade changes`, async () => ((await tradeChangeCount(system.db)) >= changesBefore + changes ? true : undefined), 120_000);
      const caught = await untilTrue(() => appliedAheadOfCommits(system, admin), 5000);
      const inFlight = streaming;
      await processor.kill();
      const uncommitted = await appliedButUncommitted(system, admin);
      leftToRedeliver += uncommitted;
      moments.push(
        `kill ${kill}: backlog ${backlog} at start, after ${changes} trade changes (${Math.round(share * 100)}%)${caught ? '' : ', none seen ahead of the commits within 5 s'}; ` +
          `${ledger.answered()} answered, ${await uncommittedRecords(admin, system.topics)} records uncommitted, ${uncommitted} of them applied, stream ${inFlight ? 'running' : 'finished'}`,
      );
      expect(inFlight).toBe(true);
    }
    await (await system.processor()).start();
    await stream;
    printMoments('processor kills', moments);
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBe(total);
    expect(leftToRedeliver).toBeGreaterThan(0);
    expect(summary.redelivered).toBeGreaterThan(0);
    expectClean(summary);
  });

  it('kill -9 of the Kafka broker under load at a seed-chosen moment: only 202 or 5xx, and every 202 applied', async () => {
    const chance = scenarioRandom('broker kill');
    const broker = await ownBroker();
    await broker.start();
    const trades = 2000;
    const system = await faultSystem({ trades, brokers: broker.brokers, topics: { events: 'webhook-events', notifications: 'trade-notifications', deadLetters: 'webhook-events.dlq', group: 'trade-webhook-processor' } });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const ledger = new Ledger('kill -9 the broker');
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: trades, rate: 100, concurrency: 32 });
    const killAfterMs = Math.round(chance.between(2000, 8000));
    const outageMs = Math.round(chance.between(6000, 12_000));
    printMoments('broker kill', [`kill after ${killAfterMs} ms of the stream, restart after ${outageMs} ms`]);
    await sleep(killAfterMs);
    await broker.kill();
    await sleep(outageMs);
    await broker.start();
    await stream;
    const summary = await settle(system, ledger);
    expect(summary.refused4xx).toBe(0);
    const metrics = await fetch(`${system.receiverUrl}/metrics`).then((response) => response.text());
    const outcomes = [...metrics.matchAll(/webhook_requests_total\{route="[\w-]+",outcome="(\w+)"\}/g)].map((match) => match[1]);
    expect([...new Set(outcomes)].sort()).toEqual(['accepted', 'unavailable']);
    expect(summary.accepted).toBe(trades * EVENTS_PER_TRADE);
    expectClean(summary);
  });

  it('PostgreSQL stopped during processing and started again: retried, nothing dead-lettered', async () => {
    const trades = 1500;
    const system = await faultSystem({ trades });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const ledger = new Ledger('PostgreSQL stopped for 8 s');
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: trades, rate: 100, concurrency: 32 });
    await sleep(3000);
    const database = databaseUnderTest();
    await database.stop();
    try {
      await sleep(8000);
    } finally {
      await database.start();
    }
    await stream;
    await waitFor('PostgreSQL back', () => system.db.raw('select 1').then(() => true, () => undefined), 60_000);
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBe(trades * EVENTS_PER_TRADE);
    expect(processor.output()).toContain('Transient failure; retrying without committing');
    expectClean(summary);
  });

  it('kill -9 of the receiver under load at a seed-chosen moment: every 202 the clients saw is in Kafka and applied', async () => {
    const chance = scenarioRandom('receiver kill');
    const trades = 2000;
    const system = await faultSystem({ trades });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const ledger = new Ledger('kill -9 the receiver');
    // No retries: what counts is what each client saw from the receiver that died.
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: trades, rate: 1000, concurrency: 64, maxAttempts: 1 });
    const killAfterMs = Math.round(chance.between(500, 2500));
    printMoments('receiver kill', [`kill after ${killAfterMs} ms of the stream`]);
    await sleep(killAfterMs);
    await system.receiver.kill();
    await stream;
    const accepted = new Set(ledger.acceptedEventIds());
    const inKafka = new Set((await readTopic(system.kafka, system.topics.events, { quietMs: 2000 })).map((message) => message.value.event_id as string));
    expect([...accepted].filter((id) => !inKafka.has(id))).toEqual([]);
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBeLessThan(trades * EVENTS_PER_TRADE);
    expectClean(summary);
  });

  it('two processors in the group, one killed at a seed-chosen moment mid-stream: the survivor takes over', async () => {
    const chance = scenarioRandom('two processors');
    const trades = 2000;
    const total = trades * EVENTS_PER_TRADE;
    const system = await faultSystem({ trades });
    await system.receiver.start();
    const [first, second] = [await system.processor(), await system.processor()];
    await first.start();
    await second.start();
    const ledger = new Ledger('two processors, one killed');
    let streaming = true;
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: trades, rate: 100, concurrency: 32 }).finally(() => (streaming = false));
    const afterAnswers = Math.round(total * chance.between(0.1, 0.6));
    await waitFor(`${afterAnswers} events answered`, async () => (ledger.answered() >= afterAnswers ? true : undefined), 120_000);
    const inFlight = streaming;
    await first.kill();
    printMoments('two processors', [`kill one after ${afterAnswers} answers; ${ledger.answered()} answered, stream ${inFlight ? 'running' : 'finished'}`]);
    expect(inFlight).toBe(true);
    await stream;
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBe(total);
    expectClean(summary);
  });

  it('a captured valid request re-sent 100 times has one effect', async () => {
    const system = await faultSystem({ trades: 1 });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const completion = tradeEvents(1).at(-1)!;
    const ledger = new Ledger('one request replayed 100 times');
    const eventIds = new Set<string>();
    for (let copy = 0; copy < 100; copy += 1) {
      const answer = await sendEvent(system.receiverUrl, completion, { maxAttempts: 3 });
      expect(answer.status).toBe(202);
      eventIds.add(answer.eventId!);
      ledger.record(completion, answer);
    }
    expect(eventIds.size).toBe(1);
    const [eventId] = eventIds;
    await waitFor('100 deliveries counted', async () => ((await system.db('webhook_events').where({ event_id: eventId }).first())?.deliveries === 100 ? true : undefined));
    const summary = await settle(system, ledger);
    expect(summary.duplicatesSuppressed).toBe(99);
    expect(await system.db('outbox').where({ event_id: eventId })).toHaveLength(1);
    expect(await system.db('transactions').where({ trade_id: 1 })).toHaveLength(1);
    expectClean(summary);
  });
});
