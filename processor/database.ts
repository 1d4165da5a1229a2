import knex, { type Knex } from 'knex';
import type { Logger } from 'pino';
import { types } from 'pg';

// numeric stays text (exact amounts); bigint stays text too and is converted where read.
types.setTypeParser(types.builtins.NUMERIC, (value) => value);

export function createDatabase(options: { url: string; schema?: string; poolMax: number; logger: Logger }): Knex {
  const log = options.logger.child({ component: 'knex' });
  return knex({
    client: 'pg',
    connection: options.url,
    searchPath: options.schema ? [options.schema] : undefined,
    pool: { min: 0, max: options.poolMax },
    acquireConnectionTimeout: 10_000,
    // Knex writes its warnings with console.log unless given a logger.
    log: {
      warn: (message: unknown) => log.warn(String(message)),
      error: (message: unknown) => log.error(String(message)),
      deprecate: (message: unknown) => log.warn(String(message)),
      debug: (message: unknown) => log.debug(String(message)),
    },
  });
}
