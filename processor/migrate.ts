import { createLogger } from '../platform/logger';
import { configOrExit } from '../platform/service-lifecycle';
import { createDatabase } from './database';
import { readProcessorConfig } from './config';
import { migrateDatabase, rollbackDatabase } from './migrations';

/**
 * `npm run migrate`: applies the migrations (and `-- --rollback` undoes the last batch). Exits
 * 2 on a configuration error, as the services do, and 1 when migrating failed.
 */
async function main(): Promise<void> {
  const config = configOrExit(readProcessorConfig);
  const logger = createLogger({ level: config.logLevel, name: 'migrate' });
  const db = configOrExit(() => createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: 2, logger }));
  try {
    const options = { schema: config.databaseSchema, walletTables: config.walletTables };
    if (process.argv.includes('--rollback')) {
      const { batch, undone } = await rollbackDatabase(db, options);
      console.log(undone.length ? `Rolled back batch ${batch}: ${undone.join(', ')}` : 'Nothing to roll back');
    } else {
      const { batch, applied } = await migrateDatabase(db, options);
      console.log(applied.length ? `Applied batch ${batch}: ${applied.join(', ')}` : 'Already up to date');
    }
  } finally {
    await db.destroy();
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
