import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { createRegistry } from '../../platform/schema-registry';
import { migrationConfig } from '../../processor/migrations';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { testDatabase } from '../support/database';
import { envelopeFor, eventWriter } from '../support/events';
import { freePort } from '../../scripts/harness/free-port';
import { startProjectProcess } from '../../scripts/harness/project-process';
import { createTestTopic, testAdmin } from '../support/kafka';
import { createTestTopics, insertTrade, migratedDatabase, systemEnv, testKafka } from '../support/processor';
import { waitFor, withinDeadline } from '../support/wait-for';
import { logLines } from '../support/log-lines';
import { CONNECTION_FAILURES } from '../../platform/connection-failures';
import { uniqueName } from '../support/names';
import { unusableKafkaConnections } from '../support/unusable-kafka';
import { startTcpProxy } from '../support/tcp-proxy';

const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

/**
 * `npm run processor` (or another of the processor's scripts) in one process (no tsx wrapper, so a
 * signal reaches the service), its stdout and stderr collected.
 */
function startProcessorProcess(env: NodeJS.ProcessEnv, script = 'processor/main.ts'): { child: ChildProcess; output: () => string } {
  const { child } = startProjectProcess(script, env);
  onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}


describe('npm run migrate and npm run processor', () => {
  it('migrates, becomes ready, and exits 0 on SIGTERM', async () => {
    const { db, schema } = await testDatabase();
    const topics = await createTestTopics();
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      ...systemEnv({ schema, topics }),
      PROCESSOR_PORT: String(port),
      PROCESSOR_HOST: '127.0.0.1',
    };
    const migrated = await promisify(execFile)(tsx, ['processor/migrate.ts'], { cwd: root, env });
    expect(migrated.stdout).toMatch(/Applied batch 1: .*create_trades_and_transactions.*create_webhook_events_and_outbox/);
    expect(await db('trades').count()).toEqual([{ count: '0' }]);

    const { child, output } = startProcessorProcess(env);
    await waitFor('readiness', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()))).toContain('webhook_processor_ready 1');

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(logLines(output())).toContainEqual(expect.objectContaining({ msg: 'Service stopped', service: 'Processor' }));
  });

  it('gives up starting with one clear message when its notification schema is incompatible with the registered one', async () => {
    const { schema } = await migratedDatabase();
    const topics = await createTestTopics();
    await createRegistry(serviceEndpoints().schemaRegistryUrl).register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'TradeNotification', namespace: 'exchange.trade_webhooks', fields: [{ name: 'other', type: 'string' }] }) },
      { subject: `${topics.notifications}-value` },
    );
    const processor = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics }), PROCESSOR_PORT: String(await freePort()), PROCESSOR_HOST: '127.0.0.1' });

    const [code] = await withinDeadline('the processor giving up', once(processor.child, 'exit'));
    expect(code).toBe(1);
    const lines = logLines(processor.output());
    expect(lines.filter((line) => line.msg === 'Start-up step failed; retrying')).toEqual([]);
    expect(lines.filter((line) => line.level === 50)).toEqual([
      expect.objectContaining({ code: 'schema_incompatible', msg: 'Starting the processor failed, and retrying cannot fix it', err: expect.objectContaining({ status: 409 }) }),
    ]);
  });

  it('gives up starting when the registry URL leads to no registry (404 on registering), retrying nothing', async () => {
    const { schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const registryUrl = `${new URL(serviceEndpoints().schemaRegistryUrl).origin}/wrong/apis/ccompat/v7`;
    const processor = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics, registryUrl }), PROCESSOR_PORT: String(await freePort()), PROCESSOR_HOST: '127.0.0.1' });

    const [code] = await withinDeadline('the processor giving up', once(processor.child, 'exit'));
    expect(code).toBe(1);
    expect(logLines(processor.output()).filter((line) => (line.level as number) >= 40)).toEqual([
      expect.objectContaining({ level: 50, code: 'registry_misconfigured', msg: 'Starting the processor failed, and retrying cannot fix it' }),
    ]);
  });

  it('gives up starting, naming every migration, when its database has not been migrated', async () => {
    const { schema } = await testDatabase();
    const topics = await createTestTopics();
    const processor = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics }), PROCESSOR_PORT: String(await freePort()), PROCESSOR_HOST: '127.0.0.1' });

    const [code] = await withinDeadline('the processor giving up', once(processor.child, 'exit'));
    expect(code).toBe(1);
    const names = (await migrationConfig({ walletTables: true }).migrationSource!.getMigrations([])).map((migration) => migrationConfig({ walletTables: true }).migrationSource!.getMigrationName(migration));
    expect(logLines(processor.output()).filter((line) => line.level === 50)).toEqual([
      expect.objectContaining({
        code: 'db_not_migrated',
        msg: 'Starting the processor failed, and retrying cannot fix it',
        err: expect.objectContaining({ pending: names, message: `the database has migrations not applied (run npm run migrate): ${names.join(', ')}` }),
      }),
    ]);
  });

  it('gives up starting, naming the migration, when the last migration is not applied', async () => {
    const { db, schema } = await migratedDatabase();
    // Undo the last migration only: the tables are there, one column is not.
    await db.migrate.down({ ...migrationConfig({ walletTables: true }), schemaName: schema });
    const topics = await createTestTopics();
    const processor = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics }), PROCESSOR_PORT: String(await freePort()), PROCESSOR_HOST: '127.0.0.1' });

    const [code] = await withinDeadline('the processor giving up', once(processor.child, 'exit'));
    expect(code).toBe(1);
    expect(logLines(processor.output()).filter((line) => (line.level as number) >= 40)).toEqual([
      expect.objectContaining({
        level: 50,
        code: 'db_not_migrated',
        msg: 'Starting the processor failed, and retrying cannot fix it',
        err: expect.objectContaining({ pending: ['20261127000011_outbox_trace_context'] }),
      }),
    ]);
  });

  it('exits non-zero, nothing dead-lettered, when it stops on a failure it must neither retry nor dead-letter', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const port = await freePort();
    const processor = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics }), PROCESSOR_PORT: String(port), PROCESSOR_HOST: '127.0.0.1' });
    await waitFor('readiness', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });
    // An operator error the processor cannot work around: its audit table is gone.
    await db.raw('alter table webhook_events rename to webhook_events_moved');
    const trade = await insertTrade(db, { trade_type: 'buy', status: 'processing' });
    const write = await eventWriter(testKafka(), topics.events);
    await write.write([{ key: String(trade.id), envelope: envelopeFor('buy_completion', JSON.stringify({ trade_id: trade.id, status: 'completed', transaction_hash: '0xgone' })) }]);

    const [code] = await withinDeadline('the processor stopping', once(processor.child, 'exit'));
    expect(code).toBe(1);
    const stops = logLines(processor.output()).filter((line) => line.msg === 'Stopping the processor: a failure it can neither retry nor dead-letter');
    expect(stops).toEqual([expect.objectContaining({ level: 50, code: 'db_not_migrated', err: expect.objectContaining({ code: '42P01' }) })]);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topics.deadLetters);
    expect(offsets.map(({ high }) => high)).toEqual(['0']);
  });
});

describe('npm run migrate and npm run processor: a configuration error', () => {
  it.each([
    ['migrate', 'a DATABASE_URL of another database', { DATABASE_URL: 'mysql://app:hunter2@db/trades' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    ['migrate', 'an sslmode it cannot honour', { DATABASE_URL: 'postgres://app:hunter2@db/trades?sslmode=prefer' }, "the database URL's sslmode"],
    ['processor', 'an sslmode it cannot honour', { DATABASE_URL: 'postgres://app:hunter2@db/trades?sslmode=prefer' }, "the database URL's sslmode"],
  ])('npm run %s exits 2 on %s, listing the problem and not the URL', async (script, _name, env, problem) => {
    const child = spawn(process.execPath, [tsx, `processor/${script === 'migrate' ? 'migrate' : 'main'}.ts`], { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await withinDeadline(`npm run ${script} exiting`, once(child, 'exit'), 20_000);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^Invalid configuration:\n/);
    expect(stderr).toContain(problem);
    expect(stderr).not.toContain('hunter2');
  });
});

describe('npm run retention and npm run processor: the events topic against the dedupe record', () => {
  const eventsTopic = async (configs: Record<string, string>) => ({ ...(await createTestTopics(1)), events: await createTestTopic(await testAdmin(), { prefix: 'events', configs }) });
  const keptForEver = () => eventsTopic({ 'retention.ms': '-1' });

  /** A database with an applied and a rejected webhook_events row, both 400 days old. */
  async function oldRows(): Promise<Awaited<ReturnType<typeof migratedDatabase>>> {
    const database = await migratedDatabase();
    await database.db.raw(`insert into webhook_events (event_id, webhook_type, trade_id, outcome, body, processed_at, last_seen_at)
                           select outcome, 'buy_completion', 1, outcome, '{}', now() - interval '400 days', now() - interval '400 days'
                           from unnest(array['applied', 'rejected']) outcome`);
    return database;
  }

  async function runRetentionCli(env: NodeJS.ProcessEnv): Promise<{ code: unknown; stderr: string }> {
    const child = spawn(process.execPath, [tsx, 'processor/retention-cli.ts'], { cwd: root, env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await withinDeadline('npm run retention exiting', once(child, 'exit'), 20_000);
    return { code, stderr };
  }

  it('npm run retention exits 0 having deleted the applied row, the topic keeping records 2 days and the rows 30', async () => {
    const topics = await eventsTopic({ 'retention.ms': String(86_400_000), 'segment.ms': String(86_400_000) });
    const { db, schema } = await oldRows();

    const { code, stderr } = await runRetentionCli(systemEnv({ schema, topics }));

    expect([code, stderr]).toEqual([0, '']);
    expect(await db('webhook_events').pluck('event_id')).toEqual(['rejected']);
  });

  it('npm run retention exits 2 naming the variables and the topic\'s retention, deleting nothing', async () => {
    const topics = await keptForEver();
    const { db, schema } = await oldRows();

    const { code, stderr } = await runRetentionCli(systemEnv({ schema, topics }));

    expect(code).toBe(2);
    expect(stderr).toContain(`retention: WEBHOOK_EVENTS_RETENTION_DAYS=30 would delete the dedupe record of events that topic ${topics.events} keeps for ever (retention.ms=-1`);
    expect(stderr).toContain('WEBHOOK_EVENTS_RETENTION_FORCE=true');
    expect(await db('webhook_events').orderBy('event_id').pluck('event_id')).toEqual(['applied', 'rejected']);
  });

  it('npm run processor with RETENTION_INTERVAL_MS exits 2 after one error line with code retention_unsafe', async () => {
    const topics = await keptForEver();
    const { schema } = await migratedDatabase();
    const processor = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics }), RETENTION_INTERVAL_MS: '60000', PROCESSOR_PORT: String(await freePort()), PROCESSOR_HOST: '127.0.0.1' });

    const [code] = await withinDeadline('the processor giving up', once(processor.child, 'exit'), 30_000);

    expect(code).toBe(2);
    expect(logLines(processor.output()).filter((line) => (line.level as number) >= 40)).toEqual([
      expect.objectContaining({ level: 50, code: 'retention_unsafe', msg: 'Starting the processor failed, and retrying cannot fix it', err: expect.objectContaining({ message: expect.stringContaining(topics.events) }) }),
    ]);
  });
});

describe('npm run processor: a Kafka it cannot use', () => {
  it.each(unusableKafkaConnections())('meeting %s, exits 1 after one error line naming the cause (%s), retrying nothing', async (_name, code, kafkaEnv) => {
    const endpoints = serviceEndpoints();
    const processor = startProcessorProcess({
      PATH: process.env.PATH,
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      DATABASE_URL: endpoints.databaseUrl,
      WEBHOOK_EVENTS_TOPIC: uniqueName('unreached'),
      PROCESSOR_PORT: String(await freePort()),
      PROCESSOR_HOST: '127.0.0.1',
      ...(await kafkaEnv()),
    });

    const [exitCode] = await withinDeadline('the processor giving up', once(processor.child, 'exit'), 20_000);
    expect(exitCode).toBe(1);
    const lines = logLines(processor.output());
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([
      expect.objectContaining({ level: 50, msg: 'Starting the processor failed, and retrying cannot fix it', code, reason: CONNECTION_FAILURES[code] }),
    ]);
    // Nothing but log lines: no stack trace printed beside them.
    expect(processor.output().trim().split('\n')).toHaveLength(lines.length);
  });
});

describe('npm run processor: stopping and listening while it starts', () => {
  it('exits 0 within 2 s on SIGTERM while Kafka is unreachable and its start-up is retrying', async () => {
    const { schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const processor = startProcessorProcess({
      PATH: process.env.PATH,
      ...systemEnv({ schema, topics }),
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      PROCESSOR_PORT: String(await freePort()),
      PROCESSOR_HOST: '127.0.0.1',
    });
    await waitFor('a retried start-up step', async () => (logLines(processor.output()).some((line) => line.msg === 'Start-up step failed; retrying') ? true : undefined));

    const signalled = Date.now();
    processor.child.kill('SIGTERM');
    const [code] = await withinDeadline('the processor stopping', once(processor.child, 'exit'), 2_000);
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    expect(logLines(processor.output())).toContainEqual(expect.objectContaining({ msg: 'Service stopped', service: 'Processor' }));
  });

  it('exits 0 within 3 s on SIGTERM while joining a consumer group another processor holds, restarting nothing', async () => {
    const { schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const env = { PATH: process.env.PATH, ...systemEnv({ schema, topics }), PROCESSOR_HOST: '127.0.0.1' };
    const holderPort = await freePort();
    const holder = startProcessorProcess({ ...env, PROCESSOR_PORT: String(holderPort) });
    await waitFor('the first processor ready', async () => {
      const response = await fetch(`http://127.0.0.1:${holderPort}/readyz`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    });

    // The holder, paused, cannot rejoin, so the join cannot finish (within its 10 s session) whatever the machine's speed.
    holder.child.kill('SIGSTOP');
    onCleanup(() => void holder.child.kill('SIGCONT'));
    const joining = startProcessorProcess({ ...env, PROCESSOR_PORT: String(await freePort()) });
    // kafkajs logs 'Starting' as the consumer begins to join.
    await waitFor('the second processor joining the group', async () =>
      logLines(joining.output()).some((line) => line.component === 'kafkajs' && line.msg === 'Starting') ? true : undefined,
    );
    const signalled = Date.now();
    joining.child.kill('SIGTERM');
    // The join gets 1.2 s to finish; the rest closes at once.
    const [code] = await withinDeadline('the processor stopping', once(joining.child, 'exit'), 3_000);
    expect(Date.now() - signalled).toBeLessThan(3_000);
    expect(code).toBe(0);
    const messages = logLines(joining.output()).map((line) => line.msg);
    expect(messages).toContain('Service stopped');
    expect(messages).toContain('Stopped while joining the consumer group, without waiting for the join');
    expect(messages).not.toContain('Consumer crashed');
    expect(messages.filter((message) => /Restarting the consumer/.test(String(message)))).toEqual([]);
    expect(messages).not.toContain('Processor consuming');
    holder.child.kill('SIGCONT');
    holder.child.kill('SIGTERM');
    expect(await once(holder.child, 'exit')).toEqual([0, null]);
  });

  it('exits 1 after one error line naming the address when its port is taken', async () => {
    const { schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => taken.close(resolve)));
    const port = (taken.address() as { port: number }).port;
    const processor = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics }), PROCESSOR_PORT: String(port), PROCESSOR_HOST: '127.0.0.1' });

    const [code] = await withinDeadline('the processor giving up', once(processor.child, 'exit'), 10_000);
    expect(code).toBe(1);
    const lines = logLines(processor.output());
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([
      expect.objectContaining({ level: 50, code: 'EADDRINUSE', msg: `Cannot listen on 127.0.0.1:${port}: another process is using the port` }),
    ]);
    expect(processor.output().trim().split('\n')).toHaveLength(lines.length);
  });
});

describe('npm run migrate: a database not accepting connections yet', () => {
  it('waits for the database, then applies the migrations and exits 0', async () => {
    const { db, schema } = await testDatabase();
    const topics = await createTestTopics();
    const database = new URL(serviceEndpoints().databaseUrl);
    const proxy = await startTcpProxy({ host: database.hostname, port: Number(database.port || 5432) });
    proxy.cut();
    database.hostname = proxy.host;
    database.port = String(proxy.port);
    const { child, output } = startProcessorProcess({ PATH: process.env.PATH, ...systemEnv({ schema, topics }), DATABASE_URL: database.toString() }, 'processor/migrate.ts');
    await waitFor('a retried migration', async () => (logLines(output()).some((line) => line.msg === 'Start-up step failed; retrying' && line.step === 'Migrating') ? true : undefined));
    expect(child.exitCode).toBeNull();

    proxy.restore();
    const [code] = await withinDeadline('the migrations', once(child, 'exit'));
    expect(code).toBe(0);
    expect(output()).toMatch(/Applied batch 1: .*create_trades_and_transactions/);
    expect(await db('trades').count()).toEqual([{ count: '0' }]);
  });
});
