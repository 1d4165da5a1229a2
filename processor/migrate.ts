import { createLogger } from '../platform/logger';
import { createDatabase } from './database';
import { ConfigError, readProcessorConfig } from './config';
import { migrationConfig } from './migrations';

/** `npm run migrate`: applies the migrations (and `-- --rollback` undoes the last batch). */
async function main(): Promise<void> {
  const config = readProcessorConfig();
  const db = createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: 2, logger: createLogger({ level: config.logLevel, name: 'migrate' }) });
  try {
    if (config.databaseSchema) await db.raw('create schema if not exists ??', [config.databaseSchema]);
    const migrations = { ...migrationConfig({ walletTables: config.walletTables }), schemaName: config.databaseSchema };
    if (process.argv.includes('--rollback')) {
      const [batch, names] = await db.migrate.rollback(migrations);
      console.log(names.length ? `Rolled back batch ${batch}: ${names.join(', ')}` : 'Nothing to roll back');
    } else {
      const [batch, names] = await db.migrate.latest(migrations);
      console.log(names.length ? `Applied batch ${batch}: ${names.join(', ')}` : 'Already up to date');
    }
  } finally {
    await db.destroy();
  }
}

main().catch((error: Error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
