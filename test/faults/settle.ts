import type { Admin } from 'kafkajs';
import { testAdmin } from '../support/kafka';
import { printLedger, type Ledger, type LedgerSummary } from '../support/ledger';
import type { TestTopics } from '../support/processor';
import { waitFor } from '../support/wait-for';
import type { FaultSystem } from './fault-system';

/** The group's committed offset of each partition of the events topic (-1: none yet). */
export async function committedOffsets(admin: Admin, topics: TestTopics): Promise<Map<number, number>> {
  const [committed] = await admin.fetchOffsets({ groupId: topics.group, topics: [topics.events] });
  return new Map((committed?.partitions ?? []).map((partition) => [partition.partition, Number(partition.offset)]));
}

/** Records of the events topic the consumer group has not committed yet, over all partitions. */
export async function uncommittedRecords(admin: Admin, topics: TestTopics): Promise<number> {
  const ends = await admin.fetchTopicOffsets(topics.events);
  const committed = await committedOffsets(admin, topics);
  let behind = 0;
  for (const end of ends) {
    const offset = committed.get(end.partition) ?? -1;
    behind += Number(end.high) - (offset < 0 ? Number(end.low) : offset);
  }
  return behind;
}

/**
 * Waits until the group has committed every record of the events topic (each one processed)
 * and the outbox is empty, then reconciles and prints the ledger.
 */
export async function settle(system: FaultSystem, ledger: Ledger): Promise<LedgerSummary> {
  const admin = await testAdmin(system.kafka);
  await waitFor('every record of the events topic processed and committed', async () => ((await uncommittedRecords(admin, system.topics)) === 0 ? true : undefined), 180_000);
  await waitFor('the outbox drained', async () => ((await system.db('outbox').whereNull('sent_at').first()) ? undefined : true), 60_000);
  const summary = await ledger.reconcile({ db: system.db, kafka: system.kafka, topics: system.topics });
  printLedger(summary);
  return summary;
}

/** Every accepted event applied once and notified: none lost, none applied twice, none dead-lettered. */
export function expectClean(summary: LedgerSummary): void {
  expect(summary.accepted).toBeGreaterThan(0);
  expect(summary.lost).toBe(0);
  expect(summary.doubleApplied).toBe(0);
  expect(summary.deadLettered).toBe(0);
  expect(summary.applied).toBe(summary.accepted);
  expect(summary.notified).toBe(summary.accepted);
}
