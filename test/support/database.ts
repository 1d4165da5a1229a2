import knex, { type Knex } from 'knex';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';
import { uniqueName } from './names';

/** A Knex bound to a PostgreSQL schema of its own, dropped with everything in it after the file's tests. */
export async function testDatabase(): Promise<{ db: Knex; schema: string }> {
  const schema = uniqueName('test');
  const admin = knex({ client: 'pg', connection: serviceEndpoints().databaseUrl, pool: { min: 0, max: 1 } });
  await admin.raw('create schema ??', [schema]);
  const db = knex({ client: 'pg', connection: serviceEndpoints().databaseUrl, searchPath: [schema], pool: { min: 0, max: 4 } });
  onCleanup(async () => {
    await db.destroy();
    await admin.raw('drop schema ?? cascade', [schema]);
    await admin.destroy();
  });
  return { db, schema };
}
