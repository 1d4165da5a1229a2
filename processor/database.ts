import knex, { type Knex } from 'knex';
import { types } from 'pg';

// numeric stays text (exact amounts); bigint stays text too and is converted where read.
types.setTypeParser(types.builtins.NUMERIC, (value) => value);

export function createDatabase(options: { url: string; schema?: string; poolMax: number }): Knex {
  return knex({
    client: 'pg',
    connection: options.url,
    searchPath: options.schema ? [options.schema] : undefined,
    pool: { min: 0, max: options.poolMax },
    acquireConnectionTimeout: 10_000,
  });
}
