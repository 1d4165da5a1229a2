import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase } from '../../processor/database';
import { classifyFailure } from '../../processor/errors';
import { RetentionUnsafe } from '../../processor/retention-guard';
import { createLogger } from '../../platform/logger';
import { StartupAborted } from '../../platform/service-lifecycle';
import { onCleanup } from '../support/cleanup';
import { envelopeFor, eventWriter } from '../support/events';
import { createTestTopic, testAdmin } from '../support/kafka';
import { createTestTopics, insertTrade, migratedDatabase, startTestProcessor, testKafka } from '../support/processor';
import { registryProxy } from '../support/registry-proxy';
import { readTopic } from '../support/topic-reader';
import { waitFor, withinDeadline } from '../support/wait-for';

const kafka = testKafka();

/** A port that counts the connections made to it and closes each at once: a service that answers nothing. */
async function countingPort(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('processor start', () => {
  it('constructs without reaching the database, Kafka or the registry; start is what connects', async () => {
    const topics = await createTestTopics(1);
    const services = await countingPort();
    const db = createDatabase({ url: `postgres://postgres@127.0.0.1:${services.port}/none`, poolMax: 1, logger: createLogger({ level: 'silent', name: 'knex' }) });
    onCleanup(() => db.destroy());
    const { processor } = await startTestProcessor({
      topics,
      db,
      schema: 'public',
      env: { KAFKA_BROKERS: `127.0.0.1:${services.port}`, SCHEMA_REGISTRY_URL: `http://127.0.0.1:${services.port}` },
      start: false,
    });
    // Anything construction set off would have connected by now.
    await sleep(300);
    expect(services.connections()).toBe(0);
    expect(processor.isReady()).toBe(false);

    const error = await withinDeadline('the start failing', rejection(processor.start()));
    expect(classifyFailure(error)).toEqual(expect.objectContaining({ code: 'db_connection_lost', retriable: true }));
    expect(services.connections()).toBeGreaterThan(0);
    expect(processor.isReady()).toBe(false);
  });

  it('starts when called again after a start that failed part-way, and then applies and publishes', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    // The registry refuses our credentials for the notification schema's registration until healed.
    let healed = false;
    const registry = await registryProxy((incoming, outgoing) => {
      if (healed || incoming.method !== 'POST') return incoming.url ?? '/';
      outgoing.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 40101, message: 'Unauthorized' }));
      return undefined;
    });
    const { processor } = await startTestProcessor({ topics, db, schema, env: { SCHEMA_REGISTRY_URL: registry.url }, start: false });

    // The database check, the topics and the producer's connection are done by then: the retry repeats them.
    const error = await withinDeadline('the first start failing', rejection(processor.start()));
    expect(classifyFailure(error).code).toBe('registry_unauthorized');
    expect(processor.isReady()).toBe(false);

    healed = true;
    await withinDeadline('the second start', processor.start());
    await waitFor('the processor ready', async () => (processor.isReady() ? true : undefined));
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const write = await eventWriter(kafka, topics.events);
    await write.write([{ key: String(trade.id), envelope: envelopeFor('buy_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0xagain' })) }]);
    await waitFor('the event applied', () => db('webhook_events').where({ trade_id: trade.id, outcome: 'applied' }).first());
    const [notification] = await readTopic(kafka, topics.notifications, { count: 1 });
    expect(notification!.headers).toEqual(expect.objectContaining({ trade_id: String(trade.id) }));
    expect(notification!.value).toEqual(expect.objectContaining({ status: 'completed' }));
  });
});

describe('processor stop during start', () => {
  /** How long nothing may happen after the stop: several outbox polls (200 ms) and a group join. */
  const QUIET_MS = 3000;

  it.each<[string, (logs: Array<Record<string, unknown>>) => boolean]>([
    ['checking the database', () => true],
    // kafkajs logs 'Starting' as its consumer begins to join the group.
    ['joining the consumer group', (logs) => logs.some((line) => line.component === 'kafkajs' && line.msg === 'Starting')],
  ])('stopped while %s, start rejects with StartupAborted and nothing is left running', async (_step, reached) => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    let sweeps = 0;
    db.on('query', (query: { sql: string }) => {
      if (/from outbox[\s\S]*for update skip locked/.test(query.sql)) sweeps += 1;
    });
    // Another member holds the group, so a join waits for it to rejoin at its next heartbeat (a processor's interval).
    const holder = kafka.consumer({ groupId: topics.group, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
    await holder.connect();
    onCleanup(() => holder.disconnect());
    await holder.subscribe({ topic: topics.events });
    await holder.run({ eachMessage: async () => undefined });
    const { processor, logs } = await startTestProcessor({ topics, db, schema, start: false });

    const starting = processor.start().then(
      () => 'started',
      (error: unknown) => error,
    );
    await waitFor('the start to reach the step', async () => (reached(logs.lines) ? true : undefined));
    await withinDeadline('the stop', processor.stop(), 10_000);
    const started = await withinDeadline('the start settling', starting, 10_000);

    const sweepsAtStop = sweeps;
    await sleep(QUIET_MS);
    expect(sweeps).toBe(sweepsAtStop);
    const admin = await testAdmin(kafka);
    const [group] = (await admin.describeGroups([topics.group])).groups;
    expect(group?.members.map((member) => member.clientId)).toEqual(['tests']);
    expect(processor.isReady()).toBe(false);
    expect(logs.messages()).not.toContain('Consumer crashed');
    expect(started).toBeInstanceOf(StartupAborted);
  });
});

describe('processor stop during a join that waits', () => {
  it('stopped while its join waits on a busy member, returns at once and leaves the group when the join is answered, applying nothing', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    // The holder is inside its handler, where kafkajs does not heartbeat: it rejoins, and the
    // processor's join is answered, only once the handler returns.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let busy: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => (busy = resolve));
    const holder = kafka.consumer({ groupId: topics.group, heartbeatInterval: 1000, maxWaitTimeInMs: 100, sessionTimeout: 30_000 });
    await holder.connect();
    onCleanup(() => holder.disconnect());
    onCleanup(() => release());
    await holder.subscribe({ topic: topics.events, fromBeginning: true });
    await holder.run({
      eachMessage: async () => {
        busy();
        await gate;
      },
    });
    const write = await eventWriter(kafka, topics.events);
    await write.write([{ key: String(trade.id), envelope: envelopeFor('buy_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0xheld' })) }]);
    await withinDeadline('the holder busy', holding, 15_000);
    const { processor, logs } = await startTestProcessor({ topics, db, schema, start: false });

    const starting = processor.start().then(
      () => 'started',
      (error: unknown) => error,
    );
    await waitFor('the join under way', async () => (logs.lines.some((line) => line.component === 'kafkajs' && line.msg === 'Starting') ? true : undefined));
    // The holder stays busy until released: a stop that waited for the join would not return.
    await withinDeadline('the stop', processor.stop(), 5_000);
    expect(await withinDeadline('the start settling', starting, 5_000)).toBeInstanceOf(StartupAborted);
    expect(logs.messages()).toContain('Stopped while joining the consumer group, without waiting for the join');

    release();
    const admin = await testAdmin(kafka);
    // The join is answered, and the member it made leaves at once, not at its session's end
    // (10 s): the holder is alone in a stable group.
    await waitFor(
      'the abandoned member gone',
      async () => {
        const [group] = (await admin.describeGroups([topics.group])).groups;
        return group?.state === 'Stable' && group.members.length === 1 ? true : undefined;
      },
      8_000,
    );
    expect(logs.messages()).toContain('Consumer has joined the group');
    const [group] = (await admin.describeGroups([topics.group])).groups;
    expect(group?.members.map((member) => member.clientId)).toEqual(['tests']);
    expect(await db('webhook_events').count()).toEqual([{ count: '0' }]);
    expect(processor.isReady()).toBe(false);
    expect(logs.messages()).not.toContain('Consumer crashed');
    expect(logs.messages()).not.toContain('Joined consumer group');
  });
});

describe('processor retention', () => {
  it('runs the retention job on RETENTION_INTERVAL_MS once started, counting what it deletes, and ends it with the processor', async () => {
    const topics = await createTestTopics(1);
    const { db, schema } = await migratedDatabase();
    await db('outbox').insert([
      { event_id: 'sent-long-ago', topic: topics.notifications, message_key: 'k', payload: '{}', created_at: db.raw("now() - interval '9 days'"), sent_at: db.raw("now() - interval '8 days'") },
      { event_id: 'never-sent', topic: topics.notifications, message_key: 'k', payload: '{}', created_at: db.raw("now() - interval '9 days'"), next_attempt_at: db.raw("now() + interval '1 day'") },
    ]);
    const { processor, metrics, logs } = await startTestProcessor({ topics, db, schema, env: { RETENTION_INTERVAL_MS: '1000' } });

    await waitFor('a retention run', async () => (logs.messages().includes('Retention run finished') ? true : undefined), 15_000);
    await processor.stop();

    expect((await db('outbox').select('event_id')).map((row: { event_id: string }) => row.event_id)).toEqual(['never-sent']);
    expect(await metrics.registry.getSingleMetricAsString('retention_deleted_rows_total')).toContain('retention_deleted_rows_total{table="outbox"} 1');
  });

  it('refuses to start with the retention job on when the events topic keeps its records for ever, unless forced', async () => {
    const topics = { ...(await createTestTopics(1)), events: await createTestTopic(await testAdmin(), { prefix: 'events', configs: { 'retention.ms': '-1' } }) };
    const { db, schema } = await migratedDatabase();
    const { processor } = await startTestProcessor({ topics, db, schema, env: { RETENTION_INTERVAL_MS: '1000' }, start: false });

    const started = await processor.start().then(() => 'started', (error: unknown) => error);

    expect(started).toBeInstanceOf(RetentionUnsafe);
    expect((started as Error).message).toContain(`topic ${topics.events} keeps for ever (retention.ms=-1`);
    expect(processor.isReady()).toBe(false);
    const forced = await startTestProcessor({ topics, db, schema, env: { RETENTION_INTERVAL_MS: '1000', WEBHOOK_EVENTS_RETENTION_FORCE: 'true' } });
    expect(forced.logs.lines).toContainEqual(expect.objectContaining({ level: 40, topic: topics.events, retentionMs: -1 }));
  });
});
