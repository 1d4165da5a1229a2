import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import { freePort } from '../../scripts/harness/free-port';
import { createRegistry, registerValueSchema, SUBJECT_COMPATIBILITY, valueSubject } from '../../platform/schema-registry';
import { readAvroSchema, TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { serviceEndpoints } from '../setup/service-endpoints';
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
async function schemasCheck(env: NodeJS.ProcessEnv): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/schemas-check.ts'], { cwd: root, env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('npm run schemas:check', () => {
  it('passes when one subject holds the current schema and the other has no version yet', async () => {
    const events = uniqueName('events');
    const notifications = uniqueName('notifications');
    await registerValueSchema(registry, events, WEBHOOK_EVENT_SCHEMA_FILE);

    const run = await schemasCheck({ SCHEMA_REGISTRY_URL: registryUrl, WEBHOOK_EVENTS_TOPIC: events, TRADE_NOTIFICATIONS_TOPIC: notifications });

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
});
