import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendWebhook } from '../../sender';
import { serviceEndpoints } from '../setup/service-endpoints';
import { Ledger, printLedger, type LedgerSummary } from '../support/ledger';
import { ownBroker } from '../support/own-broker';
import { TEST_SECRETS } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';
import { completionOf, faultSystem, sendStream, type FaultSystem } from './fault-system';
import { FAULT_SEED, seededRandom } from './seeded-random';

const random = seededRandom(FAULT_SEED);
process.stdout.write(`\nFault suite seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);

/** Waits until every accepted event is applied and notified, then reconciles and prints the ledger. */
async function settle(system: FaultSystem, ledger: Ledger): Promise<LedgerSummary> {
  const accepted = ledger.acceptedEventIds();
  await waitFor(
    'every accepted event applied',
    async () => {
      const [row] = await system.db('webhook_events').whereIn('event_id', accepted).where({ outcome: 'applied' }).count<{ count: string }[]>('* as count');
      return Number(row!.count) === accepted.length ? true : undefined;
    },
    120_000,
  );
  await waitFor('the outbox drained', async () => ((await system.db('outbox').whereNull('sent_at').first()) ? undefined : true), 60_000);
  const summary = await ledger.reconcile({ db: system.db, kafka: system.kafka, notificationsTopic: system.topics.notifications, deadLetterTopic: system.topics.deadLetters });
  printLedger(summary);
  return summary;
}

function expectClean(summary: LedgerSummary): void {
  expect(summary.accepted).toBeGreaterThan(0);
  expect(summary.lost).toBe(0);
  expect(summary.doubleApplied).toBe(0);
  expect(summary.deadLettered).toBe(0);
  expect(summary.applied).toBe(summary.accepted);
  expect(summary.notified).toBe(summary.accepted);
}

describe('faults: nothing acknowledged lost, nothing applied twice', () => {
  it('kill -9 of the processor at random moments during a 5,000-event stream', async () => {
    const system = await faultSystem({ trades: 5000 });
    await system.receiver.start();
    let processor = await system.processor();
    await processor.start();
    const ledger = new Ledger('kill -9 the processor, 3 times, during 5,000 events');
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: 5000, rate: 500, concurrency: 32 });
    for (let kill = 1; kill <= 3; kill += 1) {
      await sleep(1000 + random() * 2000);
      await processor.kill();
      processor = await system.processor();
      await processor.start();
    }
    await stream;
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBe(5000);
    expectClean(summary);
  });

  it('kill -9 of the Kafka broker for 10 s under load: only 202 or 5xx, and every 202 applied', async () => {
    const broker = await ownBroker();
    await broker.start();
    const system = await faultSystem({ trades: 3000, brokers: broker.brokers, topics: { events: 'webhook-events', notifications: 'trade-notifications', deadLetters: 'webhook-events.dlq', group: 'trade-webhook-processor' } });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const ledger = new Ledger('kill -9 the broker for 10 s');
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: 3000, rate: 150, concurrency: 32 });
    await sleep(4000);
    broker.kill();
    await sleep(10_000);
    await broker.start();
    await stream;
    const summary = await settle(system, ledger);
    expect(summary.refused4xx).toBe(0);
    const metrics = await fetch(`${system.receiverUrl}/metrics`).then((response) => response.text());
    const outcomes = [...metrics.matchAll(/webhook_requests_total\{route="buy-complete",outcome="(\w+)"\}/g)].map((match) => match[1]);
    expect(outcomes.sort()).toEqual(['accepted', 'unavailable']);
    expect(summary.accepted).toBe(3000);
    expectClean(summary);
  });

  it('PostgreSQL stopped during processing and started again: retried, nothing dead-lettered', async () => {
    const system = await faultSystem({ trades: 3000 });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const ledger = new Ledger('PostgreSQL stopped for 8 s');
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: 3000, rate: 300, concurrency: 32 });
    await sleep(3000);
    const cluster = localCluster();
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'stop', '-m', 'fast']);
    try {
      await sleep(8000);
    } finally {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'start']);
    }
    await stream;
    await waitFor('PostgreSQL back', () => system.db.raw('select 1').then(() => true, () => undefined), 60_000);
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBe(3000);
    expect(processor.output()).toContain('Transient failure; retrying without committing');
    expectClean(summary);
  });

  it('kill -9 of the receiver under load: every 202 the clients saw is in Kafka and applied', async () => {
    const system = await faultSystem({ trades: 4000 });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const ledger = new Ledger('kill -9 the receiver');
    // No retries: what counts is what each client saw from the receiver that died.
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: 4000, rate: 2000, concurrency: 64, maxAttempts: 1 });
    await sleep(1000);
    await system.receiver.kill();
    await stream;
    const accepted = new Set(ledger.acceptedEventIds());
    const inKafka = new Set((await readTopic(system.kafka, system.topics.events, { quietMs: 2000 })).map((message) => message.value.event_id as string));
    expect([...accepted].filter((id) => !inKafka.has(id))).toEqual([]);
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBeLessThan(4000);
    expectClean(summary);
  });

  it('two processors in the group, one killed mid-stream: the survivor takes over', async () => {
    const system = await faultSystem({ trades: 3000 });
    await system.receiver.start();
    const [first, second] = [await system.processor(), await system.processor()];
    await first.start();
    await second.start();
    const ledger = new Ledger('two processors, one killed');
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: 3000, rate: 500, concurrency: 32 });
    await sleep(2000);
    await first.kill();
    await stream;
    const summary = await settle(system, ledger);
    expect(summary.accepted).toBe(3000);
    expectClean(summary);
  });

  it('a captured valid request re-sent 100 times has one effect', async () => {
    const system = await faultSystem({ trades: 1 });
    await system.receiver.start();
    const processor = await system.processor();
    await processor.start();
    const { body, eventId } = completionOf(1);
    const ledger = new Ledger('one request replayed 100 times');
    for (let copy = 0; copy < 100; copy += 1) {
      const result = await sendWebhook(system.receiverUrl, 'buy-complete', body, { secret: TEST_SECRETS.BUY_WEBHOOK_SECRET, maxAttempts: 3, baseDelayMs: 100 });
      expect(result.status).toBe(202);
      ledger.record(eventId, 1, result.status);
    }
    await waitFor('100 deliveries counted', async () => ((await system.db('webhook_events').where({ event_id: eventId }).first())?.deliveries === 100 ? true : undefined));
    const summary = await settle(system, ledger);
    expect(summary.duplicatesSuppressed).toBe(99);
    expect(await system.db('outbox').where({ event_id: eventId })).toHaveLength(1);
    expect(await system.db('transactions').where({ trade_id: 1 })).toHaveLength(1);
    expectClean(summary);
  });
});

/** The Debian cluster version serving DATABASE_URL (the machine's own PostgreSQL). */
function localCluster(): string {
  const host = new URL(serviceEndpoints().databaseUrl).hostname;
  if (!existsSync('/usr/bin/pg_ctlcluster') || !['127.0.0.1', 'localhost'].includes(host)) {
    throw new Error('this scenario stops the local Debian PostgreSQL cluster (pg_ctlcluster); DATABASE_URL points elsewhere');
  }
  const [version] = readdirSync('/etc/postgresql');
  return version!;
}
