import { setTimeout as sleep } from 'node:timers/promises';
import { tradeChangeCount } from '../support/change-log';
import { Ledger, type Answer, type SentEvent } from '../support/ledger';
import { ownRegistry } from '../support/own-registry';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';
import { PROGRESS_UPDATES, faultSystem, sendStream } from './fault-system';
import { FAULT_SEED, printMoments, scenarioRandom } from './seeded-random';
import { expectClean, settle } from './settle';

process.stdout.write(`\nFault suite seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);

const EVENTS_PER_TRADE = PROGRESS_UPDATES + 1;

/** A ledger that also notes when each sender was refused (5xx) or got no answer, as the senders saw it. */
class TimedLedger extends Ledger {
  readonly refusedAt: number[] = [];

  override record(event: SentEvent, answer: Answer): void {
    if (answer.status === 0 || answer.status >= 500) this.refusedAt.push(performance.now());
    super.record(event, answer);
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

describe('faults: the schema registry restarted mid-stream', () => {
  it('SIGTERM, then kill -9, each while a processor that has cached nothing takes over: nothing refused, lost, dead-lettered or applied twice; processing resumes by itself', async () => {
    const chance = scenarioRandom('registry restart');
    const registry = await ownRegistry();
    await registry.start();
    const trades = 2400;
    const system = await faultSystem({ trades, registryUrl: registry.url });
    await system.receiver.start();
    let processor = await system.processor();
    await processor.start();

    const ledger = new TimedLedger('registry restarted mid-stream (SIGTERM, then kill -9)');
    const began = performance.now();
    let streaming = true;
    // One attempt per webhook: every refusal a sender saw is in the ledger, none hidden by a retry.
    const stream = sendStream({ url: system.receiverUrl, ledger, from: 1, to: trades, rate: 60, concurrency: 32, maxAttempts: 1 }).finally(() => (streaming = false));
    const moments: string[] = [];
    const outages: Array<{ from: number; to: number }> = [];

    for (const [how, bringDown] of [
      ['SIGTERM', () => registry.stop()],
      ['kill -9', () => registry.kill()],
    ] as const) {
      const afterMs = Math.round(chance.between(2000, 5000));
      await sleep(afterMs);
      const inFlight = streaming;
      const downFrom = performance.now();
      await bringDown();
      const down = performance.now();
      // The running processor has the events' schema cached; its successor starts with nothing,
      // so it can decode the records already in Kafka only if the restarted registry still
      // knows their schema id. Its start-up waits for the registry, as after a deployment.
      await processor.stop();
      const successor = await system.processor();
      const successorReady = successor.start();
      const starting = performance.now();
      await registry.start();
      const up = performance.now();
      await successorReady;
      const changes = await tradeChangeCount(system.db);
      await waitFor('a trade change by the processor that started while the registry was away', async () => ((await tradeChangeCount(system.db)) > changes ? true : undefined), 60_000);
      const applying = performance.now();
      outages.push({ from: downFrom, to: up });
      moments.push(
        `${how} ${seconds(downFrom - began)} into the stream (${afterMs} ms after the previous step): stopped in ${Math.round(down - downFrom)} ms, ` +
          `answering again ${seconds(up - down)} later (its start: ${seconds(up - starting)}); the new processor applying ${seconds(applying - up)} after that`,
      );
      expect(inFlight).toBe(true);
      processor = successor;
    }
    await stream;
    const refusals = ledger.refusedAt.map((at) => seconds(at - began));
    moments.push(
      `senders refused or unanswered: ${refusals.length === 0 ? 'none' : `${refusals.length}, from ${refusals[0]} to ${refusals.at(-1)}`}; ` +
        `registry away ${outages.map((outage) => `${seconds(outage.from - began)}-${seconds(outage.to - began)}`).join(' and ')}`,
    );
    printMoments('registry restart', moments);

    const summary = await settle(system, ledger);
    // The receiver reads its schema from the registry once, at start: a registry away later
    // costs the senders nothing.
    expect(ledger.refusedAt).toEqual([]);
    expect(summary.accepted).toBe(trades * EVENTS_PER_TRADE);
    expectClean(summary);
    // Each processor registers the TradeNotification schema at start: all three got the id the
    // first one was given, so every notification names the same one.
    const notifications = await readTopic(system.kafka, system.topics.notifications, { decode: false, count: summary.notified, quietMs: 1000 });
    expect(new Set(notifications.map((message) => message.raw.value!.readInt32BE(1))).size).toBe(1);
  });
});
