import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { classifyServiceFailure } from '../platform/service-failures';
import type { RetentionConfig } from './config';
import { DAY_MS } from './retention';

/** How long the webhook-events topic keeps a record, as its broker reports it. */
export interface TopicRetention {
  readonly retentionMs: number;
  readonly segmentMs: number;
  readonly cleanupPolicy: string;
}

/** The job would delete the dedupe record of events Kafka may still deliver: it does not run. */
export class RetentionUnsafe extends Error {
  override readonly name = 'RetentionUnsafe';
  readonly code = 'retention_unsafe';
}

const FORCE_HINT = 'set WEBHOOK_EVENTS_RETENTION_DAYS=0 to keep the rows, or WEBHOOK_EVENTS_RETENTION_FORCE=true to delete them anyway';

/**
 * The topic's settings; undefined when the broker denies reading them (no DescribeConfigs ACL);
 * 'absent' when there is no such topic, which holds nothing to deliver.
 */
export async function readTopicRetention(kafka: Kafka, topic: string): Promise<TopicRetention | 'absent' | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'segment.ms', 'cleanup.policy'] }],
      includeSynonyms: false,
    });
    const value = (name: string): string | undefined => resources[0]?.configEntries.find((entry) => entry.configName === name)?.configValue;
    return { retentionMs: Number(value('retention.ms')), segmentMs: Number(value('segment.ms')), cleanupPolicy: value('cleanup.policy') ?? '' };
  } catch (error) {
    if (classifyServiceFailure(error) === 'broker_not_authorized') return undefined;
    if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return 'absent';
    throw error;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Why deleting webhook_events rows older than `days` would let Kafka deliver an event again
 * after its row is gone (applied and notified a second time), or undefined when it cannot.
 * Kafka deletes a partition's records a whole segment at a time, once the segment's newest
 * record is older than retention.ms: a record may be read up to retention.ms + segment.ms after
 * it was written (two weeks with the defaults). A compacted topic, or retention.ms=-1, keeps
 * records for ever.
 */
export function retentionProblem(days: number, topic: string, retention: TopicRetention | 'absent' | undefined): string | undefined {
  const variable = `WEBHOOK_EVENTS_RETENTION_DAYS=${days}`;
  if (retention === 'absent') return undefined;
  if (retention === undefined) {
    return `${variable} cannot be checked: the configuration of topic ${topic} cannot be read (the user needs DescribeConfigs on it); grant it, or ${FORCE_HINT}`;
  }
  const { retentionMs, segmentMs, cleanupPolicy } = retention;
  if (retentionMs === -1 || !cleanupPolicy.split(',').includes('delete')) {
    return `${variable} would delete the dedupe record of events that topic ${topic} keeps for ever (retention.ms=${retentionMs}, cleanup.policy=${cleanupPolicy}): one delivered again would be applied again; ${FORCE_HINT}`;
  }
  const keptMs = retentionMs + segmentMs;
  if (days * DAY_MS > keptMs) return undefined;
  return (
    `${variable} (${days * DAY_MS} ms) must be longer than topic ${topic} may keep a record, retention.ms=${retentionMs} + segment.ms=${segmentMs} = ${keptMs} ms ` +
    `(Kafka deletes whole segments): an event delivered again after its row is deleted would be applied again; ${FORCE_HINT}`
  );
}

/**
 * Run before the job deletes anything: throws RetentionUnsafe when a topic may still deliver
 * events whose rows the job would delete, unless WEBHOOK_EVENTS_RETENTION_FORCE, which logs it
 * as a warning instead. The topics are webhook-events and its dead-letter topic, whose records
 * `dlq:replay` writes back to webhook-events. Nothing to check when webhook_events rows are kept.
 */
export async function checkRetentionAgainstTopic(options: { kafka: Kafka; topics: readonly string[]; retention: RetentionConfig; logger: Logger }): Promise<void> {
  const { kafka, topics, retention, logger } = options;
  if (retention.webhookEventsDays === 0) return;
  for (const topic of topics) {
    const settings = await readTopicRetention(kafka, topic);
    const problem = retentionProblem(retention.webhookEventsDays, topic, settings);
    if (problem === undefined) continue;
    if (!retention.force) throw new RetentionUnsafe(problem);
    logger.warn({ topic, ...(typeof settings === 'object' && settings) }, `${problem} (WEBHOOK_EVENTS_RETENTION_FORCE=true: deleting anyway)`);
  }
}
