import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import { replayDeadLetters } from '../../processor/dlq-replay';
import { serviceEndpoints } from '../setup/service-endpoints';
import { envelopeFor, eventWriter } from '../support/events';
import { createTestTopics, migratedDatabase, startTestProcessor, testKafka, type TestTopics } from '../support/processor';
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
});
