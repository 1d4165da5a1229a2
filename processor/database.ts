import { inspect } from 'node:util';
import knex, { type Knex } from 'knex';
import type { Logger } from 'pino';
import { types } from 'pg';
import { maskUrlCredentials } from '../platform/logger';
import { databaseConnection } from './database-connection';

/**
 * numeric stays text: amounts are exact decimals, and a JS number would round them (bigint stays
 * text too, pg's default, and is converted where it is read). pg keeps its type parsers in one
 * table for the whole process, shared by every client and pool whoever made them, so this cannot
 * be set for one database handle only; setting it again sets the same parser, so every
 * `createDatabase` can call it.
 */
function keepNumericAsText(): void {
  types.setTypeParser(types.builtins.NUMERIC, (value) => value);
}

/** What knex handed its logger, as text: an error's stack, an object as inspect shows it; URL credentials masked. */
function knexText(message: unknown): string {
  const text = message instanceof Error ? (message.stack ?? message.message) : typeof message === 'string' ? message : inspect(message);
  return maskUrlCredentials(text);
}

/**
 * A Knex on the database at `url`; TLS as its `sslmode` and `sslrootcert` say (see
 * `databaseConnection`: `require` verifies the certificate and the host name, like
 * `verify-full`). Throws a ConfigError, before connecting, for a TLS setting it cannot honour.
 */
export function createDatabase(options: { url: string; schema?: string; poolMax: number; logger: Logger }): Knex {
  const connection = databaseConnection(options.url);
  keepNumericAsText();
  const log = options.logger.child({ component: 'knex' });
  return knex({
    client: 'pg',
    connection,
    searchPath: options.schema ? [options.schema] : undefined,
    pool: { min: 0, max: options.poolMax },
    acquireConnectionTimeout: 10_000,
    // Knex writes its warnings with console.log unless given a logger. Its text varies (a value,
    // a stack): it goes into `detail`, under one fixed message per kind that a search can find.
    log: {
      warn: (message: unknown) => log.warn({ detail: knexText(message) }, 'Knex warning'),
      error: (message: unknown) => log.error({ detail: knexText(message) }, 'Knex error'),
      deprecate: (message: unknown) => log.warn({ detail: knexText(message) }, 'Knex deprecation'),
      debug: (message: unknown) => log.debug({ detail: knexText(message) }, 'Knex debug'),
    },
  });
}
