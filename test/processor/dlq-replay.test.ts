import type { IHeaders } from 'kafkajs';
import { replayDeadLetters, type ReplayFilter } from '../../processor/dlq-replay';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { readTopic } from '../support/topic-reader';

// The dead-letter topic is written here directly, in the shape sendToDeadLetters writes it, so
// the filters meet copies of their own choosing: two copies of one event, one without a time,
// one without an id.

const kafka = testKafka();

const DAY_1 = '2026-01-01T00:00:00.000Z';
const DAY_2 = '2026-01-02T00:00:00.000Z';
const DAY_3 = '2026-01-03T00:00:00.000Z';

function deadLetter(key: string, value: string, headers: IHeaders) {
  return { key, value, headers: { ce_id: key, dlq_detail: 'why', dlq_source_topic: 'webhook-events', dlq_source_partition: '0', dlq_source_offset: '5', ...headers } };
}

describe('replayDeadLetters', () => {
  let deadLetters: string;
  beforeAll(async () => {
    deadLetters = await createTestTopic(await testAdmin(), { prefix: 'dlq' });
    const producer = kafka.producer();
    await producer.connect();
    onCleanup(() => producer.disconnect());
    await producer.send({
      topic: deadLetters,
      acks: -1,
      messages: [
        deadLetter('a', 'a, first copy', { dlq_event_id: 'a', dlq_reason: 'trade_not_found', dlq_failed_at: DAY_1 }),
        deadLetter('b', 'b', { dlq_event_id: 'b', dlq_reason: 'amount_mismatch', dlq_failed_at: DAY_2 }),
        deadLetter('a', 'a, second copy', { dlq_event_id: 'a', dlq_reason: 'trade_not_found', dlq_failed_at: DAY_3 }),
        deadLetter('x', 'no id', { dlq_reason: 'trade_not_found', dlq_failed_at: DAY_3 }),
        deadLetter('c', 'c', { dlq_event_id: 'c', dlq_reason: 'schema_invalid' }),
      ],
    });
  });

  const a = { eventId: 'a', reason: 'trade_not_found', failedAt: DAY_3 };
  const b = { eventId: 'b', reason: 'amount_mismatch', failedAt: DAY_2 };
  const c = { eventId: 'c', reason: 'schema_invalid', failedAt: '' };

  it.each<[string, ReplayFilter, unknown[]]>([
    ['the latest copy of a named event', { eventIds: ['a'] }, [a]],
    ['the named events that are there, nothing for one that is not', { eventIds: ['b', 'missing'] }, [b]],
    ['every event with an id, each once, when all are asked for', { all: true }, [a, b, c]],
    ['the events dead-lettered at or after a time, none without a time', { all: true, since: new Date(DAY_2) }, [b, a]],
    ['nothing without event ids or all', {}, []],
    ['nothing for an empty list of event ids', { eventIds: [] }, []],
  ])('matches %s', async (_name, filter, matched) => {
    const result = await replayDeadLetters({ kafka, deadLetterTopic: deadLetters, eventsTopic: 'not-written-in-a-dry-run', filter, dryRun: true });
    expect(result).toEqual({ matched, replayed: 0 });
  });

  it('republishes the latest copy with its key, value and headers, and of the dlq_ headers only the event id', async () => {
    const events = await createTestTopic(await testAdmin(), { prefix: 'events' });
    const result = await replayDeadLetters({ kafka, deadLetterTopic: deadLetters, eventsTopic: events, filter: { eventIds: ['a'] } });
    expect(result).toEqual({ matched: [a], replayed: 1 });
    const replayed = await readTopic(kafka, events, { count: 1, decode: false });
    expect(replayed.map((record) => ({ key: record.key, value: record.raw.value?.toString(), headers: record.headers }))).toEqual([
      { key: 'a', value: 'a, second copy', headers: { ce_id: 'a', dlq_event_id: 'a' } },
    ]);
  });

  it('matches nothing in an empty dead-letter topic', async () => {
    const empty = await createTestTopic(await testAdmin(), { prefix: 'dlq' });
    expect(await replayDeadLetters({ kafka, deadLetterTopic: empty, eventsTopic: 'unused', filter: { all: true } })).toEqual({ matched: [], replayed: 0 });
  });
});
