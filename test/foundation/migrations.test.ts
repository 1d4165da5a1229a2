import knex from 'knex';
import { migrateDatabase, migrationConfig, rollbackDatabase } from '../../processor/migrations';
import { onCleanup } from '../support/cleanup';
import { serviceEndpoints } from '../setup/service-endpoints';
import { testDatabase } from '../support/database';
import { uniqueName } from '../support/names';

async function tablesIn(db: import('knex').Knex, schema: string): Promise<string[]> {
  const rows = await db('information_schema.tables').where({ table_schema: schema }).orderBy('table_name').pluck('table_name');
  return rows.filter((name: string) => !name.startsWith('knex_'));
}

describe('Knex migrations', () => {
  it('create every table and drop them again', async () => {
    const { db, schema } = await testDatabase();
    const config = { ...migrationConfig({ walletTables: true }), schemaName: schema };

    await db.migrate.latest(config);
    expect(await tablesIn(db, schema)).toEqual(['outbox', 'trades', 'transactions', 'webhook_events']);

    await db.migrate.rollback(config, true);
    expect(await tablesIn(db, schema)).toEqual([]);
  });

  it('leave the wallet tables out when the wallet service owns them', async () => {
    const { db, schema } = await testDatabase();
    await db.migrate.latest({ ...migrationConfig({ walletTables: false }), schemaName: schema });

    expect(await tablesIn(db, schema)).toEqual(['outbox', 'webhook_events']);
  });

  it('are applied once by migrateDatabase, into the schema it names, created if missing', async () => {
    const schema = uniqueName('migrated');
    const db = knex({ client: 'pg', connection: serviceEndpoints().databaseUrl, searchPath: [schema], pool: { min: 0, max: 1 } });
    onCleanup(async () => {
      await db.raw('drop schema if exists ?? cascade', [schema]);
      await db.destroy();
    });

    const first = await migrateDatabase(db, { schema, walletTables: true });
    expect(first.applied.length).toBeGreaterThan(0);
    expect(await tablesIn(db, schema)).toEqual(['outbox', 'trades', 'transactions', 'webhook_events']);
    expect((await migrateDatabase(db, { schema, walletTables: true })).applied).toEqual([]);

    const undone = await rollbackDatabase(db, { schema, walletTables: true });
    expect(undone).toEqual({ batch: first.batch, undone: [...first.applied].reverse() });
    expect(await tablesIn(db, schema)).toEqual([]);
  });
});
