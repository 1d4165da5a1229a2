import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { jdbcDatasource, registryEnvironment } from '../../../scripts/harness/native/registry';
import { createRegistry, registerValueSchema } from '../../../platform/schema-registry';
import { readAvroSchema, TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../../../schemas/avro-schemas';
import { uniqueName } from '../../support/names';
import { ownRegistry } from '../../support/own-registry';

/** The name of the record a schema id stands for, read by a client that has cached nothing. */
async function recordNameOf(url: string, id: number): Promise<string> {
  const type = (await createRegistry(url).getSchema(id)) as unknown as { name: string };
  return type.name;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const began = performance.now();
  await work();
  return Math.round(performance.now() - began);
}

describe('the native schema registry', () => {
  it('keeps schema ids across a stop and a kill -9: the same id reads the same schema, and a new schema gets a new id', async () => {
    const registry = await ownRegistry();
    const firstStartMs = await timed(() => registry.start());
    const topic = uniqueName('kept');
    const id = await registerValueSchema(createRegistry(registry.url), topic, WEBHOOK_EVENT_SCHEMA_FILE);
    const webhookEvent = readAvroSchema(WEBHOOK_EVENT_SCHEMA_FILE);

    await registry.stop();
    const restartMs = await timed(() => registry.start());
    expect(await recordNameOf(registry.url, id)).toBe(`${String(webhookEvent.namespace)}.${webhookEvent.name}`);
    // Registering it again, as every service does at start, finds it rather than numbering it anew.
    expect(await registerValueSchema(createRegistry(registry.url), topic, WEBHOOK_EVENT_SCHEMA_FILE)).toBe(id);

    await registry.kill();
    const afterKillMs = await timed(() => registry.start());
    expect(await recordNameOf(registry.url, id)).toBe(`${String(webhookEvent.namespace)}.${webhookEvent.name}`);
    // A registry that had lost its ids would hand out the first one again.
    const other = await registerValueSchema(createRegistry(registry.url), uniqueName('other'), TRADE_NOTIFICATION_SCHEMA_FILE);
    expect(other).not.toBe(id);
    expect(await recordNameOf(registry.url, id)).toBe(`${String(webhookEvent.namespace)}.${webhookEvent.name}`);

    process.stdout.write(`\nRegistry with SQL storage ready in: ${firstStartMs} ms (empty database), ${restartMs} ms after SIGTERM, ${afterKillMs} ms after kill -9\n`);
  }, 240_000);
});

describe("the registry's database settings", () => {
  it('hands pgjdbc the server, database, TLS parameters, user and password of a postgres URL', () => {
    expect(jdbcDatasource('postgres://app:s%40cret@db.internal:6432/apicurio_registry?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem')).toEqual({
      url: 'jdbc:postgresql://db.internal:6432/apicurio_registry?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem',
      username: 'app',
      password: 's@cret',
    });
    expect(jdbcDatasource('postgres://postgres@127.0.0.1/apicurio_registry')).toEqual({
      url: 'jdbc:postgresql://127.0.0.1:5432/apicurio_registry',
      username: 'postgres',
    });
  });

  it("checks the server's certificate where libpq would: sslmode=require with a root certificate is verify-ca", () => {
    expect(jdbcDatasource('postgres://postgres@db.internal/apicurio_registry?sslmode=require&sslrootcert=ca.pem').url).toBe(
      'jdbc:postgresql://db.internal:5432/apicurio_registry?sslmode=verify-ca&sslrootcert=ca.pem',
    );
    expect(jdbcDatasource('postgres://postgres@db.internal/apicurio_registry?sslmode=require').url).toBe('jdbc:postgresql://db.internal:5432/apicurio_registry?sslmode=require');
  });

  it('refuses a parameter pgjdbc does not read, naming it', () => {
    expect(() => jdbcDatasource('postgres://postgres@127.0.0.1/apicurio_registry?sslmode=require&application_name=x&connect_timeout=3')).toThrow(
      /application_name, connect_timeout$/,
    );
  });

  it('keeps the password out of every setting but the password', () => {
    const environment = registryEnvironment(jdbcDatasource('postgres://app:hunter2@db.internal/apicurio_registry'));
    expect(environment.APICURIO_DATASOURCE_PASSWORD).toBe('hunter2');
    expect(Object.entries(environment).filter(([name, value]) => name !== 'APICURIO_DATASOURCE_PASSWORD' && value.includes('hunter2'))).toEqual([]);
  });

  it('docker-compose.yml gives its registry the native settings, against the compose database, which an init script creates', () => {
    const compose = parse(readFileSync(join(__dirname, '..', '..', '..', 'docker-compose.yml'), 'utf8')) as {
      services: {
        registry: { environment: Record<string, string>; depends_on: Record<string, { condition: string }> };
        postgres: { volumes: string[] };
      };
    };
    const registry = compose.services.registry;
    const database = new URL(registry.environment.APICURIO_DATASOURCE_URL!.replace(/^jdbc:/, '')).pathname.slice(1);

    expect(registry.environment).toEqual(registryEnvironment({ url: `jdbc:postgresql://postgres:5432/${database}`, username: 'postgres' }));
    expect(registry.depends_on.postgres).toEqual({ condition: 'service_healthy' });
    const initScripts = compose.services.postgres.volumes
      .map((volume) => volume.split(':'))
      .filter(([, target]) => target?.startsWith('/docker-entrypoint-initdb.d/'))
      .map(([source]) => readFileSync(join(__dirname, '..', '..', '..', source!), 'utf8'));
    expect(initScripts.join('\n')).toMatch(new RegExp(`create database ${database};`, 'i'));
  });
});
