import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import type { Admin } from 'kafkajs';
import { replayDeadLetters } from '../../processor/dlq-replay';
import { serviceEndpoints } from '../setup/service-endpoints';
import { signPayload } from '../../schemas/signatures';
import { envelopeFor, eventWriter } from '../support/events';
import { testAdmin } from '../support/kafka';
import { createTestTopics, insertTrade, migratedDatabase, startTestProcessor, testKafka, type TestTopics } from '../support/processor';
import { startTestReceiver, TEST_SECRETS } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

const kafka = testKafka();
const root = join(__dirname, '..', '..');

function cliEnv(schema: string, topics: TestTopics): NodeJS.ProcessEnv {
  const endpoints = serviceEndpoints();
  return {
    PATH: process.env.PATH,
    DATABASE_URL: endpoints.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    WEBHOOK_EVENTS_TOPIC: topics.events,
    DLQ_TOPIC: topics.deadLetters,
  };
}

async function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env });
  return stdout;
}

describe('operator tools', () => {
  let db: Knex;
  let schema: string;
  let topics: TestTopics;
  let write: Awaited<ReturnType<typeof eventWriter>>;
  const tradeId = 900_001;
  const completion = envelopeFor('buy_completion', JSON.stringify({ trade_id: tradeId, status: 'completed', transaction_hash: '0xlate' }));
  const lateStatus = envelopeFor('trade_status', JSON.stringify({ trade_id: tradeId, status: 'processing' }));

  beforeAll(async () => {
    ({ db, schema } = await migratedDatabase());
    topics = await createTestTopics();
    await startTestProcessor({ topics, db, schema });
    write = await eventWriter(kafka, topics.events);
  });

  it('replays a dead-lettered event once its trade exists, and a second replay applies nothing', async () => {
    await write.write([{ key: String(tradeId), envelope: completion }]);
    await waitFor('the event dead-lettered', () => db('webhook_events').where({ event_id: completion.event_id, outcome: 'rejected' }).first());
    await readTopic(kafka, topics.deadLetters, { count: 1, decode: false });

    const dryRun = await runScript('processor/dlq-replay-cli.ts', ['--event-id', completion.event_id, '--dry-run'], cliEnv(schema, topics));
    expect(dryRun).toContain(`${completion.event_id}  trade_not_found`);
    expect(dryRun).toContain('1 dead-lettered event(s) would be replayed');

    await db('trades').insert({ id: tradeId, reference: 'TRADE-900001', user_id: 9, trade_type: 'buy', status: 'processing', crypto_currency: 'BTC' });
    const replayed = await runScript('processor/dlq-replay-cli.ts', ['--event-id', completion.event_id], cliEnv(schema, topics));
    expect(replayed).toContain(`Replayed 1 event(s) to ${topics.events}`);
    await waitFor('the replayed event applied', () => db('webhook_events').where({ event_id: completion.event_id, outcome: 'applied' }).first());
    expect((await db('trades').where({ id: tradeId }).first()).status).toBe('completed');

    const again = await replayDeadLetters({ kafka, deadLetterTopic: topics.deadLetters, eventsTopic: topics.events, filter: { all: true } });
    expect(again.replayed).toBe(1);
    const row = await waitFor('the second replay counted as a duplicate', async () => {
      const found = await db('webhook_events').where({ event_id: completion.event_id }).first();
      return found.deliveries === 3 ? found : undefined;
    });
    expect(row.outcome).toBe('applied');
    expect(await db('outbox').where({ event_id: completion.event_id })).toHaveLength(1);
  });

  it('prints the audit trail of a trade in order', async () => {
    await write.write([{ key: String(tradeId), envelope: lateStatus }]);
    await waitFor('the late status recorded', () => db('webhook_events').where({ event_id: lateStatus.event_id }).first());

    const output = await runScript('processor/audit-cli.ts', ['--trade-id', String(tradeId)], cliEnv(schema, topics));
    const lines = output.trim().split('\n');
    expect(lines[0]).toMatch(/^received_at\s+webhook_type\s+outcome\s+deliveries/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(1, 4))).toEqual([
      ['buy_completion', 'applied', '3'],
      ['trade_status', 'stale', '1'],
    ]);
    expect(lines[0]).toMatch(/\breason\s+detail$/);
    expect(lines[2]).toMatch(/\btransition_not_allowed\s+trade is completed; processing not applied$/);
  });

  it("prints an applied webhook's record as its 202 receipt named it, and keeps that record when the webhook is sent again", async () => {
    const receiver = await startTestReceiver({ topic: topics.events });
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const body = JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0xreceipt' });
    const deliver = async () => {
      const response = await fetch(`${receiver.url}/api/webhooks/buy-complete`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) },
      });
      expect(response.status).toBe(202);
      return (await response.json()) as { event_id: string; topic: string; partition: number; offset: string };
    };
    /** The record columns of the event's line in the CLI's table. */
    const printed = async (eventId: string) => {
      const [header, line] = (await runScript('processor/audit-cli.ts', ['--event-id', eventId], cliEnv(schema, topics))).trim().split('\n');
      const cells = Object.fromEntries(header!.split(/\s+/).map((title, column) => [title, line!.split(/\s+/)[column]]));
      return { topic: cells.topic, partition: cells.partition, offset: cells.offset };
    };

    const receipt = await deliver();
    await waitFor('the webhook applied', () => db('webhook_events').where({ event_id: receipt.event_id, outcome: 'applied' }).first());
    expect(await printed(receipt.event_id)).toEqual({ topic: receipt.topic, partition: String(receipt.partition), offset: receipt.offset });
    const json = JSON.parse(await runScript('processor/audit-cli.ts', ['--event-id', receipt.event_id, '--json'], cliEnv(schema, topics))) as unknown;
    expect(json).toEqual([expect.objectContaining({ event_id: receipt.event_id, topic: receipt.topic, partition: receipt.partition, offset: receipt.offset })]);

    // A repeat is written again under its own receipt; the audit keeps the record that was applied.
    const repeat = await deliver();
    expect(repeat).toEqual({ ...receipt, offset: expect.not.stringMatching(`^${receipt.offset}$`) });
    await waitFor('the repeat counted', () => db('webhook_events').where({ event_id: receipt.event_id, deliveries: 2 }).first());
    expect(await printed(receipt.event_id)).toEqual({ topic: receipt.topic, partition: String(receipt.partition), offset: receipt.offset });
  });
});

describe('replaying the whole dead-letter topic', () => {
  let db: Knex;
  let topics: TestTopics;
  let write: Awaited<ReturnType<typeof eventWriter>>;
  let admin: Admin;
  beforeAll(async () => {
    const database = await migratedDatabase();
    db = database.db;
    topics = await createTestTopics(1);
    write = await eventWriter(kafka, topics.events);
    admin = await testAdmin(kafka);
    await startTestProcessor({ topics, db, schema: database.schema });
  });

  /** Until the processor committed every event written so far (it commits after its DLQ writes). */
  async function processedAll(): Promise<void> {
    const [end] = await admin.fetchTopicOffsets(topics.events);
    await waitFor('the processor to commit every event', async () => {
      const [committed] = await admin.fetchOffsets({ groupId: topics.group, topics: [topics.events] });
      return Number(committed!.partitions[0]!.offset) >= Number(end!.high) ? true : undefined;
    });
  }

  const replayAll = async () => {
    await replayDeadLetters({ kafka, deadLetterTopic: topics.deadLetters, eventsTopic: topics.events, filter: { all: true } });
    await processedAll();
  };
  const deadLettered = async (eventId: string) =>
    (await readTopic(kafka, topics.deadLetters, { quietMs: 1000, decode: false })).filter((message) => message.headers.dlq_event_id === eventId);

  it('replays an undecodable record under the id it was dead-lettered under, so replaying everything again never multiplies it', async () => {
    await write.writeRaw('garbage', Buffer.from('not an Avro record'));
    await processedAll();
    const [first] = await db('webhook_events').where({ reason: 'undecodable_envelope' });

    await replayAll();
    await replayAll();
    expect(await db('webhook_events').where({ reason: 'undecodable_envelope' })).toEqual([expect.objectContaining({ event_id: first.event_id, deliveries: 3 })]);
    const copies = (await readTopic(kafka, topics.deadLetters, { quietMs: 1000, decode: false })).filter((message) => message.headers.dlq_reason === 'undecodable_envelope');
    expect(copies.map((message) => message.headers.dlq_event_id)).toEqual([first.event_id, first.event_id, first.event_id]);
  });

  it('copies a payment the trade cannot take to the DLQ once however often it is replayed, and applies it once the trade is reopened', async () => {
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'failed' });
    const body = JSON.stringify({ status: 'success', customer_reference: trade.reference, internal_reference: 'RWX-R', amount: 50000, currency: 'UGX' });
    const late = envelopeFor('relworx_payment', body, `relworx_payment:${trade.reference}:RWX-R:success`);
    await write.write([{ key: trade.reference, envelope: late }]);
    await processedAll();

    await replayAll();
    await replayAll();
    expect(await db('webhook_events').where({ event_id: late.event_id }).first()).toEqual(expect.objectContaining({ outcome: 'rejected', reason: 'payment_after_terminal', deliveries: 3 }));
    expect((await deadLettered(late.event_id)).map((message) => message.headers.dlq_reason)).toEqual(['payment_after_terminal']);

    await db('trades').where({ id: trade.id }).update({ status: 'pending' });
    await replayAll();
    expect(await db('webhook_events').where({ event_id: late.event_id }).first()).toEqual(expect.objectContaining({ outcome: 'applied', reason: null }));
    expect(await db('transactions').where({ trade_id: trade.id })).toEqual([expect.objectContaining({ provider_reference: 'RWX-R', status: 'completed' })]);
    expect(await deadLettered(late.event_id)).toHaveLength(1);
  });
});

describe('operator tools: a Kafka they cannot use', () => {
  it('dlq:replay exits 1 naming the cause, at once, when KAFKA_SSL is on for a plaintext broker', async () => {
    const endpoints = serviceEndpoints();
    const failed = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'processor/dlq-replay-cli.ts', '--all', '--dry-run'], {
      cwd: root,
      env: { PATH: process.env.PATH, KAFKA_BROKERS: endpoints.kafkaBrokers.join(','), KAFKA_SSL: 'true' },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failed).toEqual(
      expect.objectContaining({
        code: 1,
        stdout: '',
        stderr: `dlq:replay: the broker's listener speaks plaintext, but KAFKA_SSL is on: put the broker's TLS listener in KAFKA_BROKERS, or set KAFKA_SSL=false (${endpoints.kafkaBrokers[0]})\n`,
      }),
    );
  });
});
