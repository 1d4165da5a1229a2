import { createLogger } from '../platform/logger';
import { configOrExit, StartupAborted, StartupError, untilDone } from '../platform/service-lifecycle';
import { createDatabase } from './database';
import { readProcessorConfig } from './config';
import { classifyFailure } from './errors';
import { migrateDatabase, rollbackDatabase } from './migrations';

/**
 * How long the migrations wait for a database that does not accept connections yet (a
 * container started beside it, a server restarting) before giving up: long enough for a
 * PostgreSQL container's first start, short enough that a wrong host fails a deployment.
 */
const DATABASE_WAIT_MS = 60_000;

/**
 * `npm run migrate`: applies the migrations (and `-- --rollback` undoes the last batch). Exits
 * 2 on a configuration error, as the services do, and 1 when migrating failed. A database not
 * reachable yet is waited for, up to DATABASE_WAIT_MS; what waiting cannot fix (credentials, a
 * failing migration) ends it at once.
 */
async function main(): Promise<void> {
  const config = configOrExit(readProcessorConfig);
  const logger = createLogger({ level: config.logLevel, name: 'migrate' });
  const db = configOrExit(() => createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: 2, logger }));
  const options = { schema: config.databaseSchema, walletTables: config.walletTables };
  const waited = AbortSignal.timeout(DATABASE_WAIT_MS);
  try {
    if (process.argv.includes('--rollback')) {
      const { batch, undone } = await untilDone('Rolling back', () => rollbackDatabase(db, options), logger, classifyFailure, waited);
      console.log(undone.length ? `Rolled back batch ${batch}: ${undone.join(', ')}` : 'Nothing to roll back');
    } else {
      const { batch, applied } = await untilDone('Migrating', () => migrateDatabase(db, options), logger, classifyFailure, waited);
      console.log(applied.length ? `Applied batch ${batch}: ${applied.join(', ')}` : 'Already up to date');
    }
  } catch (error) {
    if (error instanceof StartupAborted) {
      logger.error({ waitedMs: DATABASE_WAIT_MS }, `The database did not accept connections within ${DATABASE_WAIT_MS / 1000} s`);
      process.exitCode = 1;
    } else if (error instanceof StartupError) {
      logger.error({ err: error.cause, code: error.code }, error.message);
      process.exitCode = 1;
    } else {
      throw error;
    }
  } finally {
    await db.destroy();
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
