import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin, type PartitionMetadata } from 'kafkajs';
import { createTopicsWithLeaders } from '../../platform/topics';
import type { ClusterBroker, KafkaCluster } from '../../scripts/harness/native/start-kafka-cluster';
import { fiveXxWindow, startAnswerLog, type AnswerLog } from '../support/answer-log';
import { testAdmin } from '../support/kafka';
import { Ledger, type LedgerSummary } from '../support/ledger';
import { uniqueName } from '../support/names';
import { ownCluster } from '../support/own-cluster';
import { readTopic } from '../support/topic-reader';
import type { TestTopics } from '../support/processor';
import type { ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';
import { faultSystem, sendStream, type FaultSystem } from './fault-system';
import { printMoments, scenarioRandom } from './seeded-random';
import { expectClean, settle } from './settle';

const REPLICAS = 3;
const MIN_IN_SYNC = 2;
/** Trades started a second, each three webhooks one after the other. */
const RATE = 40;
/** Load keeps going this long after a fault sequence ends, so recovery is under load too. */
const TAIL_MS = 3000;

let cluster: KafkaCluster;
let admin: Admin;

beforeAll(async () => {
  cluster = await ownCluster({ brokers: 3 });
  // Few retries: metadata asked while brokers are down must fail fast and be asked again.
  admin = await testAdmin(new Kafka({ clientId: 'cluster-faults', brokers: cluster.bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 2, maxRetryTime: 1000 } }));
}, 180_000);

async function partitions(topic: string): Promise<PartitionMetadata[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]!.partitions;
}

/** `check`'s value once it has one; a metadata request that fails while brokers are down is asked again. */
function waitForMetadata<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  return waitFor(what, () => check().catch(() => undefined), timeoutMs);
}

/** Until every partition of every topic, internal ones too, has all its replicas in sync. */
async function allInSync(): Promise<void> {
  await waitForMetadata('every partition with all its replicas in sync', async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: await admin.listTopics() });
    return topics.every(({ partitions }) => partitions.every(({ leader, isr, replicas }) => leader >= 0 && isr.length === replicas.length)) ? true : undefined;
  });
}

/**
 * The scenario's topics, replicated three times and acknowledged by two, made before the
 * receiver and processor start (they leave topics that exist as they are).
 */
async function replicatedTopics(): Promise<TestTopics> {
  const topics = { events: uniqueName('events'), notifications: uniqueName('notifications'), deadLetters: uniqueName('dlq'), group: uniqueName('processor') };
  const specs = [
    { topic: topics.events, partitions: 6 },
    { topic: topics.notifications, partitions: 6 },
    { topic: topics.deadLetters, partitions: 1 },
  ];
  await createTopicsWithLeaders(admin, specs.map((spec) => ({ ...spec, replicationFactor: REPLICAS, minInsyncReplicas: MIN_IN_SYNC })));
  // Another broker may not know the topic for a moment yet: asked again until one answers.
  const events = await waitForMetadata('the events topic in the metadata', () => partitions(topics.events));
  for (const partition of events) expect(partition.replicas).toHaveLength(REPLICAS);
  return topics;
}

/** A scenario's system with senders running through an answer log, until `stop()`. */
interface Load {
  readonly system: FaultSystem;
  readonly processor: ServiceProcess;
  readonly ledger: Ledger;
  readonly answers: AnswerLog;
  streaming(): boolean;
  /**
   * Stops starting trades, waits for those started, settles and prints the ledger, stops the
   * services. `missingFromTopic`: accepted events the events topic does not hold (a loss on the
   * way into Kafka, as opposed to one in the processor).
   */
  finish(): Promise<LedgerSummary & { missingFromTopic: string[] }>;
}

async function underLoad(scenario: string, maxSeconds: number): Promise<Load> {
  await allInSync();
  const trades = RATE * maxSeconds;
  const system = await faultSystem({ trades, brokers: cluster.bootstrap, topics: await replicatedTopics() });
  await system.receiver.start();
  const processor = await system.processor();
  await processor.start();
  const answers = await startAnswerLog(system.receiverUrl);
  const ledger = new Ledger(scenario);
  let stopping = false;
  let streaming = true;
  const stream = sendStream({ url: answers.url, ledger, from: 1, to: trades, rate: RATE, concurrency: 32, stopWhen: () => stopping }).finally(() => (streaming = false));
  return {
    system,
    processor,
    ledger,
    answers,
    streaming: () => streaming,
    async finish() {
      stopping = true;
      await stream;
      const summary = await settle(system, ledger).catch((error: Error) => {
        // What the processor said is where a stall shows.
        throw new Error(`${error.message}\nprocessor output, last lines:\n${processor.output().split('\n').slice(-15).join('\n')}`);
      });
      const inTopic = new Set((await readTopic(system.kafka, system.topics.events, { quietMs: 3000, timeoutMs: 120_000 })).map((message) => message.value.event_id as string));
      const missingFromTopic = ledger.acceptedEventIds().filter((id) => !inTopic.has(id));
      await system.receiver.stop();
      await processor.stop();
      return { ...summary, missingFromTopic };
    },
  };
}

/** One line with the figures to quote, the 5xx window measured from the answer log. */
function printFigures(scenario: string, summary: LedgerSummary & { missingFromTopic: string[] }, answers: AnswerLog, faultAt: number): ReturnType<typeof fiveXxWindow> {
  const window = fiveXxWindow(answers.answers());
  const when = window.count > 0 ? ` (from ${window.firstAt! - faultAt} ms to ${window.lastAt! - faultAt} ms after the fault)` : '';
  process.stdout.write(
    `\nFigures — ${scenario}: sent ${summary.sent}, accepted ${summary.accepted}, 5xx ${summary.refused5xx} final ` +
      `(${window.count} 5xx answers seen, retries included), lost ${summary.lost}, double-applied ${summary.doubleApplied}, ` +
      `senders saw 5xx for ${window.windowMs} ms${when}; accepted but not in the events topic ${summary.missingFromTopic.length}\n`,
  );
  return window;
}

function expectEveryEventAccepted(summary: LedgerSummary & { missingFromTopic: string[] }): void {
  expect(summary.missingFromTopic).toEqual([]);
  expect(summary.refused4xx).toBe(0);
  expect(summary.accepted).toBe(summary.sent);
  expectClean(summary);
}

function brokerNamed(nodeId: number): ClusterBroker {
  return cluster.brokers.find((broker) => broker.nodeId === nodeId)!;
}

describe('faults on a three-broker cluster: nothing acknowledged lost, nothing applied twice', () => {
  it('kill -9 of the leader of the busiest webhook-events partition under load: another replica leads, every 202 applied', async () => {
    const chance = scenarioRandom('cluster leader kill');
    const scenario = 'kill -9 the leader of the busiest partition';
    const load = await underLoad(scenario, 120);
    const events = load.system.topics.events;
    await sleep(Math.round(chance.between(3000, 6000)));
    const ends = await admin.fetchTopicOffsets(events);
    const busiest = ends.reduce((most, partition) => (Number(partition.high) > Number(most.high) ? partition : most));
    const leader = (await partitions(events)).find((partition) => partition.partitionId === busiest.partition)!.leader;
    const faultAt = Date.now();
    await brokerNamed(leader).kill();
    const newLeader = await waitForMetadata('another leader of the partition', async () => {
      const partition = (await partitions(events)).find(({ partitionId }) => partitionId === busiest.partition)!;
      return partition.leader >= 0 && partition.leader !== leader ? partition.leader : undefined;
    });
    const failoverMs = Date.now() - faultAt;
    await sleep(5000);
    const inFlight = load.streaming();
    await brokerNamed(leader).start();
    const backMs = Date.now() - faultAt;
    await allInSync();
    await sleep(TAIL_MS);
    printMoments(scenario, [
      `killed broker ${leader}, leader of partition ${busiest.partition} (${busiest.high} records, the most), ${load.ledger.answered()} events answered by then`,
      `broker ${newLeader} led it ${failoverMs} ms after the kill; broker ${leader} started again and serving ${backMs} ms after, all replicas in sync ${Date.now() - faultAt - TAIL_MS} ms after`,
    ]);
    const summary = await load.finish();
    printFigures(scenario, summary, load.answers, faultAt);
    expect(inFlight).toBe(true);
    expect(newLeader).not.toBe(leader);
    expectEveryEventAccepted(summary);
  });

  it('a rolling restart of all three brokers under load, one at a time, each back in sync before the next: every 202 applied', async () => {
    const scenario = 'rolling restart of the three brokers';
    const load = await underLoad(scenario, 150);
    await sleep(3000);
    const faultAt = Date.now();
    const moments: string[] = [];
    for (const broker of cluster.brokers) {
      const began = Date.now();
      await broker.stop();
      const stoppedMs = Date.now() - began;
      await broker.start();
      const startedMs = Date.now() - began;
      await allInSync();
      moments.push(`broker ${broker.nodeId}: controlled shutdown ${stoppedMs} ms, serving again after ${startedMs} ms, every replica in sync after ${Date.now() - began} ms`);
    }
    const inFlight = load.streaming();
    await sleep(TAIL_MS);
    printMoments(scenario, [...moments, `${load.ledger.answered()} events answered when the last broker was back`]);
    const summary = await load.finish();
    printFigures(scenario, summary, load.answers, faultAt);
    expect(inFlight).toBe(true);
    expectEveryEventAccepted(summary);
  });

  it('two brokers down, below min.insync.replicas: 503s and no 202 while one replica is left, and 202s again once one returns', async () => {
    const chance = scenarioRandom('cluster two brokers down');
    const scenario = 'two of three brokers killed';
    const load = await underLoad(scenario, 150);
    const events = load.system.topics.events;
    await sleep(3000);
    const order = [...cluster.brokers].sort(() => chance.next() - 0.5);
    const [survivor, returning, last] = order as [ClusterBroker, ClusterBroker, ClusterBroker];
    const faultAt = Date.now();
    await Promise.all([returning.kill(), last.kill()]);
    // The controller takes the dead brokers out of the in-sync replicas once their sessions expire.
    await waitForMetadata('every partition of the events topic below min.insync.replicas', async () =>
      (await partitions(events)).every(({ isr }) => isr.length < MIN_IN_SYNC) ? true : undefined,
    );
    const belowAt = Date.now();
    const inFlight = load.streaming();
    await sleep(Math.round(chance.between(6000, 10_000)));
    const returnAt = Date.now();
    await returning.start();
    const servingAt = Date.now();
    const firstAccepted = await waitFor('a 202 once a second broker is back', async () => load.answers.answers().find((answer) => answer.status === 202 && answer.at >= returnAt)?.at, 90_000);
    await last.start();
    await allInSync();
    await sleep(TAIL_MS);

    const outage = load.answers.answers().filter((answer) => answer.at >= belowAt && answer.at <= returnAt);
    const acceptedInOutage = outage.filter((answer) => answer.status >= 200 && answer.status < 300).length;
    const statusesInOutage = [...new Set(outage.map((answer) => answer.status))].sort();
    printMoments(scenario, [
      `killed brokers ${returning.nodeId} and ${last.nodeId}; broker ${survivor.nodeId} left`,
      `every partition below ${MIN_IN_SYNC} in-sync replicas ${belowAt - faultAt} ms after the kill; ${outage.length} answers in the ${returnAt - belowAt} ms after that: ${acceptedInOutage} of them 2xx, statuses ${statusesInOutage.join(', ')}`,
      `broker ${returning.nodeId} started ${returnAt - faultAt} ms after the kill, serving after ${servingAt - returnAt} ms; first 202 ${firstAccepted - returnAt} ms after its start`,
    ]);
    const summary = await load.finish();
    printFigures(scenario, summary, load.answers, faultAt);
    expect(inFlight).toBe(true);
    expect(outage.length).toBeGreaterThan(0);
    expect(acceptedInOutage).toBe(0);
    expect(statusesInOutage).toEqual([503]);
    expectEveryEventAccepted(summary);
  });
});
