import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Knex } from 'knex';

interface MigrationFile {
  name: string;
  path: string;
}

/**
 * The migrations, named without their extension: the same migration is `.ts` when run from
 * source and `.js` from the build, and knex must see one name for both or it calls the
 * history corrupt. The wallet tables are a folder of their own so that a deployment whose
 * wallet service owns `trades` and `transactions` can leave them out.
 */
export function migrationConfig(options: { walletTables: boolean }): Knex.MigratorConfig {
  const extension = extname(__filename);
  const folders = [...(options.walletTables ? ['wallet'] : []), 'webhooks'];
  const migrationSource: Knex.MigrationSource<MigrationFile> = {
    async getMigrations() {
      return folders
        .flatMap((folder) =>
          readdirSync(join(__dirname, folder))
            .filter((file) => file.endsWith(extension) && !file.endsWith(`.d${extension}`))
            .map((file) => ({ name: basename(file, extension), path: join(__dirname, folder, file) })),
        )
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => (await import(migration.path)) as Knex.Migration,
  };
  return { migrationSource, tableName: 'knex_migrations' };
}

export interface MigrateOptions {
  /**
   * The PostgreSQL schema to migrate, created if missing; the search path's when unset. The
   * migrations create their tables in the search path, so `db` must be bound to this schema
   * (`createDatabase({ schema })`); it names where knex keeps its migration history.
   */
  readonly schema?: string;
  readonly walletTables: boolean;
}

async function migratorFor(db: Knex, options: MigrateOptions): Promise<Knex.MigratorConfig> {
  if (options.schema) await db.raw('create schema if not exists ??', [options.schema]);
  return { ...migrationConfig({ walletTables: options.walletTables }), schemaName: options.schema };
}

/** Applies every pending migration; returns the batch number and the names applied. */
export async function migrateDatabase(db: Knex, options: MigrateOptions): Promise<{ batch: number; applied: string[] }> {
  const [batch, applied] = (await db.migrate.latest(await migratorFor(db, options))) as [number, string[]];
  return { batch, applied };
}

/** Undoes the last batch of migrations; returns its number and the names undone. */
export async function rollbackDatabase(db: Knex, options: MigrateOptions): Promise<{ batch: number; undone: string[] }> {
  const [batch, undone] = (await db.migrate.rollback(await migratorFor(db, options))) as [number, string[]];
  return { batch, undone };
}

/** The database lacks migrations this code needs: `npm run migrate` has not been run since they came. */
export class MigrationsPending extends Error {
  override readonly name = 'MigrationsPending';
  constructor(readonly pending: readonly string[]) {
    super(`the database has migrations not applied (run npm run migrate): ${pending.join(', ')}`);
  }
}

/**
 * The migrations of this code that the database has not applied, by name, in order. Read-only:
 * knex's own `migrate.list` would create its history tables, which a service's start must not
 * do (nor may its database user be allowed to). No history table means nothing applied.
 */
export async function pendingMigrations(db: Knex, options: MigrateOptions): Promise<string[]> {
  const { migrationSource, tableName } = migrationConfig({ walletTables: options.walletTables });
  const all = (await migrationSource!.getMigrations([])).map((migration) => migrationSource!.getMigrationName(migration));
  const history = options.schema ? db.withSchema(options.schema).from(tableName!) : db.from(tableName!);
  const applied = await history.select<Array<{ name: string }>>('name').then(
    (rows) => new Set(rows.map(({ name }) => name)),
    (error: { code?: unknown }) => {
      // 42P01: undefined_table, the history table (or its schema) is not there.
      if (error.code === '42P01') return new Set<string>();
      throw error;
    },
  );
  return all.filter((name) => !applied.has(name));
}

