import { Kafka, logLevel, type Admin } from 'kafkajs';
import { freePort } from '../../scripts/harness/free-port';
import { createLogger } from '../../platform/logger';
import { classifyFailure } from '../../processor/errors';
import { checkRetentionAgainstTopic, readTopicRetention, retentionProblem, RetentionUnsafe } from '../../processor/retention-guard';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { uniqueName } from '../support/names';
import { CapturedLogs } from '../support/receiver';

const DAY_MS = 86_400_000;
const RETENTION = { intervalMs: 60_000, outboxDays: 7, batchRows: 1000, force: false };

/** The check for a `days`-day record of webhook events on `topic` (or `topics`), and what it logged. */
async function check(topic: string | string[], days: number, force = false, kafka = testKafka()): Promise<{ outcome: unknown; logs: CapturedLogs }> {
  const logs = new CapturedLogs();
  const logger = createLogger({ level: 'info', name: 'retention' }, logs);
  const topics = typeof topic === 'string' ? [topic] : topic;
  const outcome = await checkRetentionAgainstTopic({ kafka, topics, retention: { ...RETENTION, webhookEventsDays: days, force }, logger }).then(
    () => 'allowed',
    (error: unknown) => error,
  );
  return { outcome, logs };
}

describe('the retention job against the webhook-events topic', () => {
  let admin: Admin;
  beforeAll(async () => {
    admin = await testAdmin();
  });

  it('reads the retention.ms, segment.ms and cleanup.policy a topic was created with', async () => {
    const topic = await createTestTopic(admin, { prefix: 'events', configs: { 'retention.ms': String(3 * DAY_MS), 'segment.ms': String(DAY_MS) } });

    expect(await readTopicRetention(testKafka(), topic)).toEqual({ retentionMs: 3 * DAY_MS, segmentMs: DAY_MS, cleanupPolicy: 'delete' });
  });

  // Kafka deletes a segment once its newest record is past retention.ms: its oldest may be read up to retention.ms + segment.ms.
  it('refuses an age not longer than retention.ms + segment.ms, naming the variable and the topic\'s values, and allows a longer one', async () => {
    const topic = await createTestTopic(admin, { prefix: 'events', configs: { 'retention.ms': String(3 * DAY_MS), 'segment.ms': String(DAY_MS) } });

    const { outcome } = await check(topic, 4);
    expect(outcome).toBeInstanceOf(RetentionUnsafe);
    expect((outcome as Error).message).toBe(
      `WEBHOOK_EVENTS_RETENTION_DAYS=4 (345600000 ms) must be longer than topic ${topic} may keep a record, retention.ms=259200000 + segment.ms=86400000 = 345600000 ms ` +
        '(Kafka deletes whole segments): an event delivered again after its row is deleted would be applied again; ' +
        'set WEBHOOK_EVENTS_RETENTION_DAYS=0 to keep the rows, or WEBHOOK_EVENTS_RETENTION_FORCE=true to delete them anyway',
    );
    expect(classifyFailure(outcome)).toEqual({ code: 'retention_unsafe', retriable: false, decision: 'stop' });
    expect((await check(topic, 5)).outcome).toBe('allowed');
  });

  it('refuses any age on a topic that keeps its records for ever, by retention.ms=-1 or by compaction', async () => {
    const infinite = await createTestTopic(admin, { prefix: 'events', configs: { 'retention.ms': '-1' } });
    const compacted = await createTestTopic(admin, { prefix: 'events', configs: { 'cleanup.policy': 'compact' } });

    const forInfinite = (await check(infinite, 36_500)).outcome as Error;
    expect(forInfinite).toBeInstanceOf(RetentionUnsafe);
    expect(forInfinite.message).toMatch(new RegExp(`^WEBHOOK_EVENTS_RETENTION_DAYS=36500 would delete the dedupe record of events that topic ${infinite} keeps for ever \\(retention.ms=-1, cleanup.policy=delete\\)`));
    const forCompacted = (await check(compacted, 36_500)).outcome as Error;
    expect(forCompacted).toBeInstanceOf(RetentionUnsafe);
    expect(forCompacted.message).toContain('cleanup.policy=compact');
  });

  it('allows it with WEBHOOK_EVENTS_RETENTION_FORCE=true, logging the problem as a warning', async () => {
    const topic = await createTestTopic(admin, { prefix: 'events', configs: { 'retention.ms': '-1' } });

    const { outcome, logs } = await check(topic, 30, true);

    expect(outcome).toBe('allowed');
    expect(logs.lines).toEqual([
      expect.objectContaining({ level: 40, topic, retentionMs: -1, msg: expect.stringMatching(/keeps for ever .*\(WEBHOOK_EVENTS_RETENTION_FORCE=true: deleting anyway\)$/) }),
    ]);
  });

  it('reads nothing when webhook_events rows are kept (an age of 0)', async () => {
    // A Kafka at a port nothing listens on: any read would fail.
    const unreachable = new Kafka({ brokers: [`127.0.0.1:${await freePort()}`], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 500 });
    expect((await check('webhook-events', 0, false, unreachable)).outcome).toBe('allowed');
  });

  it('checks the dead-letter topic too, whose records dlq:replay writes back, and passes over a topic that does not exist', async () => {
    const events = await createTestTopic(admin, { prefix: 'events', configs: { 'retention.ms': String(3 * DAY_MS), 'segment.ms': String(DAY_MS) } });
    const deadLetters = await createTestTopic(admin, { prefix: 'events-dlq', configs: { 'retention.ms': '-1' } });

    const refused = (await check([events, deadLetters], 30)).outcome as Error;
    expect(refused).toBeInstanceOf(RetentionUnsafe);
    expect(refused.message).toContain(`topic ${deadLetters} keeps for ever`);
    expect((await check([events, uniqueName('no-dlq-yet')], 30)).outcome).toBe('allowed');
  });

  it('refuses when the broker denies reading the topic\'s configuration, saying so', () => {
    expect(retentionProblem(30, 'webhook-events', undefined)).toBe(
      'WEBHOOK_EVENTS_RETENTION_DAYS=30 cannot be checked: the configuration of topic webhook-events cannot be read (the user needs DescribeConfigs on it); ' +
        'grant it, or set WEBHOOK_EVENTS_RETENTION_DAYS=0 to keep the rows, or WEBHOOK_EVENTS_RETENTION_FORCE=true to delete them anyway',
    );
  });
});
