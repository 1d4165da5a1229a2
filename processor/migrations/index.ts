import { join } from 'node:path';
import type { Knex } from 'knex';

/**
 * Where the migrations live. The wallet tables are a separate folder so that a deployment
 * whose wallet service owns `trades` and `transactions` can leave them out.
 */
export function migrationConfig(options: { walletTables: boolean }): Knex.MigratorConfig {
  const directory = [join(__dirname, 'webhooks')];
  if (options.walletTables) directory.unshift(join(__dirname, 'wallet'));
  return {
    directory,
    loadExtensions: [__filename.endsWith('.ts') ? '.ts' : '.js'],
    tableName: 'knex_migrations',
  };
}
