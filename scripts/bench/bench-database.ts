import type { Knex } from 'knex';
import { createLogger } from '../../platform/logger';
import { createDatabase } from '../../processor/database';
import { migrateDatabase } from '../../processor/migrations';
import { insertPendingBuyTrades } from '../harness/pending-trades';
import { benchName } from './bench-env';

/** A fresh, migrated schema holding `count` pending buy trades with ids 1..count. */
export async function benchSchema(databaseUrl: string, count: number): Promise<{ db: Knex; schema: string; drop: () => Promise<void> }> {
  const schema = benchName('db');
  const db = createDatabase({ url: databaseUrl, schema, poolMax: 12, logger: createLogger({ level: 'warn', name: 'bench' }) });
  await migrateDatabase(db, { schema, walletTables: true });
  await insertPendingBuyTrades(db, { count, referencePrefix: 'BENCH', users: 1000 });
  return {
    db,
    schema,
    drop: async () => {
      await db.raw('drop schema ?? cascade', [schema]);
      await db.destroy();
    },
  };
}

export async function countRows(db: Knex, table: string): Promise<number> {
  const [row] = await db(table).count<{ count: string }[]>('* as count');
  return Number(row!.count);
}
