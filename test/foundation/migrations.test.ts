import { migrationConfig } from '../../processor/migrations';
import { testDatabase } from '../support/database';

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
});
