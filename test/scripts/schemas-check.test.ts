import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import { freePort } from '../../scripts/harness/free-port';
import { createRegistry, registerValueSchema, SUBJECT_COMPATIBILITY, valueSubject } from '../../platform/schema-registry';
import { readAvroSchema, TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { serviceEndpoints } from '../setup/service-endpoints';
import { endless, fakeRegistry, json, trickle } from '../support/fake-registry';
import { uniqueName } from '../support/names';

const root = join(__dirname, '..', '..');
const registryUrl = serviceEndpoints().schemaRegistryUrl;
const registry = createRegistry(registryUrl);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run schemas:check` as a deploy pipeline runs it: its own process, only these variables. */
async function schemasCheck(env: NodeJS.ProcessEnv, args: readonly string[] = []): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/schemas-check.ts', ...args], { cwd: root, env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('npm run schemas:check', () => {
  it('passes with --allow-unregistered when one subject holds the current schema and the other has no version yet', async () => {
    const events = uniqueName('events');
    const notifications = uniqueName('notifications');
    await registerValueSchema(registry, events, WEBHOOK_EVENT_SCHEMA_FILE);

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: registryUrl, WEBHOOK_EVENTS_TOPIC: events, TRADE_NOTIFICATIONS_TOPIC: notifications }, ['--allow-unregistered']);

    expect(run).toEqual({
      code: 0,
      stdout: `${valueSubject(events)} (webhook-event.avsc): compatible\n${valueSubject(notifications)} (trade-notification.avsc): no version registered yet (the first start registers it)\n`,
      stderr: '',
    });
  });

  it('fails with exit code 1 and names the subject whose latest version has a field of another type', async () => {
    const events = uniqueName('events');
    const notifications = uniqueName('notifications');
    await registerValueSchema(registry, events, WEBHOOK_EVENT_SCHEMA_FILE);
    const schema = readAvroSchema(TRADE_NOTIFICATION_SCHEMA_FILE);
    const retyped = { ...schema, fields: schema.fields.map((field) => (field.name === 'status' ? { ...field, type: 'int' } : field)) };
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(retyped) }, { subject: valueSubject(notifications), compatibility: SUBJECT_COMPATIBILITY });

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: registryUrl, WEBHOOK_EVENTS_TOPIC: events, TRADE_NOTIFICATIONS_TOPIC: notifications });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${valueSubject(events)} (webhook-event.avsc): compatible\n`);
    expect(run.stdout).toContain(`${valueSubject(notifications)} (trade-notification.avsc): NOT compatible\n`);
    expect(run.stderr).toBe('schemas:check: 1 schema(s) that could not be registered: a service starting with them would stop (schema_incompatible or registry_misconfigured)\n');
  });

  it('fails with exit code 1 when a subject is set to another compatibility rule than the services register under', async () => {
    const events = uniqueName('events');
    const schema = JSON.stringify(readAvroSchema(WEBHOOK_EVENT_SCHEMA_FILE));
    await registry.register({ type: SchemaType.AVRO, schema }, { subject: valueSubject(events), compatibility: COMPATIBILITY.FULL });

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: registryUrl, WEBHOOK_EVENTS_TOPIC: events, TRADE_NOTIFICATIONS_TOPIC: uniqueName('notifications') });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${valueSubject(events)} (webhook-event.avsc): NOT registrable: the subject's compatibility is FULL, and the services register only under BACKWARD\n`);
  });

  it('fails with exit code 2 and says so when the registry cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}/apis/ccompat/v7`;

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: url });

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^schemas:check: could not check against the schema registry at ${url}: no answer from the schema registry about webhook-events-value: connect ECONNREFUSED`));
  });

  it('fails with exit code 2 on a configuration problem, naming the variable', async () => {
    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: registryUrl, SCHEMA_REGISTRY_USERNAME: 'only-a-user' });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) go together');
  });

  it('fails with exit code 3 for a subject with no version, without --allow-unregistered, listing the -value subjects the registry has', async () => {
    const events = uniqueName('events');
    const notifications = uniqueName('notifications');
    await registerValueSchema(registry, events, WEBHOOK_EVENT_SCHEMA_FILE);

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: registryUrl, WEBHOOK_EVENTS_TOPIC: events, TRADE_NOTIFICATIONS_TOPIC: notifications });

    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`${valueSubject(notifications)} (trade-notification.avsc): no version registered yet`);
    expect(run.stderr).toContain(`schemas:check: nothing to compare against: no version registered under ${valueSubject(notifications)}.\n  The registry's -value subjects: `);
    expect(run.stderr).toContain('on a first deploy, run with --allow-unregistered');
  });

  it('shows a misspelt topic next to the subjects the registry has, at most 20 of them', async () => {
    const known = Array.from({ length: 25 }, (_, index) => `webhook-events-${String(index).padStart(2, '0')}-value`);
    const url = await fakeRegistry({ latest: json(404, { error_code: 40401, message: 'Subject not found.' }), config: json(404, { error_code: 40401 }), subjects: json(200, ['webhook-events-key', ...known]) });

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: url, WEBHOOK_EVENTS_TOPIC: 'webhook-evnets' });

    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      [
        'schemas:check: nothing to compare against: no version registered under webhook-evnets-value, trade-notifications-value.',
        `  The registry's -value subjects: ${known.slice(0, 20).join(', ')} (and 5 more)`,
        '  A misspelt topic variable (WEBHOOK_EVENTS_TOPIC, TRADE_NOTIFICATIONS_TOPIC) looks the same; on a first deploy, run with --allow-unregistered.\n',
      ].join('\n'),
    );
  });

  it('still fails with exit code 3 when the registry will not list its subjects, saying why', async () => {
    const url = await fakeRegistry({ latest: json(404, { error_code: 40401 }), config: json(404, { error_code: 40401 }), subjects: json(403, { message: 'Forbidden' }) });

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: url });

    expect(run.code).toBe(3);
    expect(run.stderr).toContain("  The registry's -value subjects: could not be listed: the schema registry answered 403 about its subjects: Forbidden\n");
  });

  it('fails with exit code 2 for an unknown argument', async () => {
    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: registryUrl }, ['--allow-unregistred']);

    expect(run).toEqual({ code: 2, stdout: '', stderr: 'schemas:check: unknown argument --allow-unregistred; the only one is --allow-unregistered\n' });
  });

  it('fails with exit code 2 on a redirect whose body says compatible', async () => {
    const url = await fakeRegistry({ compatible: json(302, { is_compatible: true }, { location: 'http://elsewhere.invalid/' }) });

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: url });

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `schemas:check: could not check against the schema registry at ${url}: the schema registry answered 302 about webhook-events-value: a redirect, which is not followed (set SCHEMA_REGISTRY_URL to the address the registry answers at)\n`,
    );
  });

  it('fails with exit code 2 against a stub that answers {} and is_compatible: true, naming the missing fields', async () => {
    const url = await fakeRegistry({ config: json(200, {}), latest: json(200, {}) });
    const withLevel = await fakeRegistry({ latest: json(200, {}) });

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: url });
    const withLevelRun = await schemasCheck({ SCHEMA_REGISTRY_URL: withLevel });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the schema registry's answer about webhook-events-value's configuration has no known compatibilityLevel");
    expect(withLevelRun.code).toBe(2);
    expect(withLevelRun.stderr).toContain("the schema registry's answer about webhook-events-value's latest version has no version, id, schema");
  });

  it('fails with exit code 2 on an answer larger than 1 MiB', async () => {
    const url = await fakeRegistry({ latest: endless(300 * 1024 * 1024) });

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: url });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the schema registry's answer about webhook-events-value is larger than 1048576 bytes: dropped unread");
  });

  it('fails with exit code 2 and ends after 10 s when an answer trickles in a byte at a time', async () => {
    const url = await fakeRegistry({ config: trickle(500) });
    const started = Date.now();

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: url });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no complete answer from the schema registry about webhook-events-value within 10 s');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
