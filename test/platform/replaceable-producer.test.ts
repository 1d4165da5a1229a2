import { KafkaJSError, type Producer } from 'kafkajs';
import { createPartitionedSender, type PartitionedSender, type PartitionOutcome } from '../../platform/partitioned-send';
import { createReplaceableProducer, recordsRefusal, type ReplaceableProducer } from '../../platform/replaceable-producer';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

const kafka = testKafka();

/** Real idempotent producers, each counted when made and when it disconnects; `fail()` makes their sends fail as a broker gone away. */
function counted(fail: () => boolean = () => false) {
  const made: Producer[] = [];
  const disconnected = new Set<Producer>();
  const replaceable = createReplaceableProducer(() => {
    const real = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const producer: Producer = {
      ...real,
      send: (record) => (fail() ? Promise.reject(new KafkaJSError('Connection error: ECONNRESET', { retriable: true })) : real.send(record)),
    };
    real.on(real.events.DISCONNECT, () => disconnected.add(producer));
    made.push(producer);
    return producer;
  });
  onCleanup(() => replaceable.disconnect());
  return { replaceable, made, disconnected };
}

const current = (replaceable: ReplaceableProducer): Promise<Producer> => replaceable.use(async (producer) => producer);

describe('ReplaceableProducer', () => {
  it('sends through a new producer after a send that failed without the broker refusing its records, and disconnects the old one', async () => {
    const topic = await createTestTopic(await testAdmin(kafka));
    const sender = createPartitionedSender({ kafka, topic });
    let failing = true;
    const { replaceable, made, disconnected } = counted(() => failing);

    const [outcome] = await replaceable.send(sender, [{ key: 'k', value: 'lost' }]);
    expect(outcome!.acknowledged).toBe(false);
    failing = false;
    await replaceable.sendAll(sender, [{ key: 'k', value: 'after' }]);

    expect(made).toHaveLength(2);
    await waitFor('the first producer disconnected', async () => (disconnected.has(made[0]!) ? true : undefined));
    expect(disconnected).toEqual(new Set([made[0]]));
    expect(await current(replaceable)).toBe(made[1]);
    expect((await readTopic(kafka, topic, { quietMs: 1500, decode: false })).map((message) => String(message.raw.value))).toEqual(['after']);
  });

  it('keeps the producer when the broker refuses the records themselves', async () => {
    const topic = await createTestTopic(await testAdmin(kafka));
    const sender = createPartitionedSender({ kafka, topic });
    const { replaceable, made, disconnected } = counted();

    // Over the broker's default 1 MB message limit: MESSAGE_TOO_LARGE, nothing appended.
    const [outcome] = await replaceable.send(sender, [{ key: 'k', value: 'x'.repeat(2 * 1024 * 1024) }]);
    expect(outcome!.acknowledged).toBe(false);
    expect(recordsRefusal(!outcome!.acknowledged && outcome!.error)?.type).toBe('MESSAGE_TOO_LARGE');
    await replaceable.sendAll(sender, [{ key: 'k', value: 'small' }]);

    expect(made).toHaveLength(1);
    expect(disconnected.size).toBe(0);
  });

  it('replaces the producer when the broker refused one partition of a send that carried several: the others may be written', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { partitions: 2 });
    const sender = createPartitionedSender({ kafka, topic });
    await sender.start();
    const keyFor = (partition: number): string => [...Array(100).keys()].map(String).find((key) => sender.partitionOf({ key, value: 'x' }) === partition)!;
    const { replaceable, made } = counted();

    // Partition 0's record is refused (MESSAGE_TOO_LARGE) and partition 1's written in the same request.
    const outcomes = await replaceable.send(sender, [
      { key: keyFor(0), value: 'x'.repeat(2 * 1024 * 1024) },
      { key: keyFor(1), value: 'written' },
    ]);
    expect(outcomes.every((outcome) => !outcome.acknowledged)).toBe(true);
    // One record to partition 1 again: a producer whose numbers were taken back would have it dropped as a duplicate.
    await replaceable.sendAll(sender, [{ key: keyFor(1), value: 'next' }]);

    expect(made).toHaveLength(2);
    const read = await readTopic(kafka, topic, { quietMs: 1500, decode: false });
    expect(read.map((message) => String(message.raw.value)).sort()).toEqual(['next', 'written']);
  });

  it('runs one send at a time: the next starts once the one under way has settled, failed or not', async () => {
    const { replaceable } = counted();
    const steps: string[] = [];
    const releases: Array<() => void> = [];
    const held = (name: string, fail: boolean): PartitionedSender => ({
      topic: 'unused',
      start: async () => undefined,
      partitionOf: () => 0,
      sendAll: async () => undefined,
      send: async () => {
        steps.push(`${name} started`);
        await new Promise<void>((resolve) => releases.push(resolve));
        steps.push(`${name} settled`);
        if (fail) throw new Error(`${name} failed`);
        return [];
      },
    });

    const first = replaceable.send(held('first', true), []);
    const second = replaceable.send(held('second', false), []);
    await waitFor('the first send started', async () => (releases.length === 1 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(steps).toEqual(['first started']);
    releases[0]!();
    await expect(first).rejects.toThrow('first failed');
    await waitFor('the second send started', async () => (releases.length === 2 ? true : undefined));
    releases[1]!();
    await expect(second).resolves.toEqual([]);
    expect(steps).toEqual(['first started', 'first settled', 'second started', 'second settled']);
  });

  it('does not hold a send behind one stuck on a producer that was replaced: it goes through a new producer', async () => {
    const { replaceable, made } = counted();
    let started = false;
    const stuck: PartitionedSender = {
      topic: 'unused',
      start: async () => undefined,
      partitionOf: () => 0,
      sendAll: async () => undefined,
      send: () => {
        started = true;
        // Released at the end, so that its producer disconnects and the test leaves nothing open.
        return new Promise<PartitionOutcome[]>((resolve) => onCleanup(() => resolve([])));
      },
    };
    const used: Producer[] = [];
    const recording: PartitionedSender = { ...stuck, send: async (producer) => (used.push(producer), []) };

    void replaceable.send(stuck, []);
    await waitFor('the stuck send started', async () => (started ? true : undefined));
    // What a caller does once it gave up on the stuck send.
    replaceable.replace();
    await expect(replaceable.send(recording, [])).resolves.toEqual([]);
    expect(made).toHaveLength(2);
    expect(used).toEqual([made[1]]);
  });

  it('fails the sends still waiting for their turn when it is disconnected, and connects a new producer for a send after that', async () => {
    const { replaceable, made, disconnected } = counted();
    let release: () => void = () => undefined;
    let started = 0;
    const held: PartitionedSender = {
      topic: 'unused',
      start: async () => undefined,
      partitionOf: () => 0,
      sendAll: async () => undefined,
      send: async () => {
        started += 1;
        await new Promise<void>((resolve) => (release = resolve));
        return [];
      },
    };
    const first = replaceable.send(held, []);
    const waiting = replaceable.send(held, []).catch((error: unknown) => error);
    await waitFor('the first send started', async () => (started === 1 ? true : undefined));
    const disconnecting = replaceable.disconnect();
    release();
    await expect(first).resolves.toEqual([]);
    expect(await waiting).toEqual(expect.objectContaining({ retriable: true, message: expect.stringContaining('disconnected while this send waited') }));
    await disconnecting;
    expect(started).toBe(1);
    expect(disconnected).toEqual(new Set([made[0]]));

    const after: PartitionedSender = { ...held, send: async () => [] };
    await expect(replaceable.send(after, [])).resolves.toEqual([]);
    expect(made).toHaveLength(2);
  });

  it('disconnects a replaced producer only once the work using it has settled', async () => {
    const { replaceable, made, disconnected } = counted();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const work = replaceable.use(() => held);
    await current(replaceable);

    replaceable.replace();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(disconnected.size).toBe(0);
    release();
    await work;
    await replaceable.disconnect();

    expect(disconnected).toEqual(new Set([made[0]]));
  });

  it('leaves a producer that is no longer current to its own work when asked to replace it again', async () => {
    const { replaceable, made } = counted();
    const first = await current(replaceable);
    replaceable.replace(first);
    const second = await current(replaceable);

    // A second failure reported for the first producer, after another send replaced it.
    replaceable.replace(first);

    expect(await current(replaceable)).toBe(second);
    expect(made).toEqual([first, second]);
  });

  it('disconnects the current producer on disconnect, and connects a new one on the next use', async () => {
    const { replaceable, made, disconnected } = counted();
    await replaceable.connect();
    await replaceable.disconnect();
    expect(disconnected).toEqual(new Set([made[0]]));

    await replaceable.connect();
    expect(made).toHaveLength(2);
  });
});
