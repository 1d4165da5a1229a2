import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { Client } from 'pg';
import type { ServiceSettings } from './settings';
import { waitUntil } from './wait-until';

export async function postgresAnswers(connectionString: string): Promise<string> {
  const client = new Client({ connectionString, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('select version() as version');
    return rows[0]?.version ?? 'unknown';
  } finally {
    await client.end();
  }
}

function refused(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

/** Debian's way to start an installed but stopped cluster; false where it is not installed. */
function startLocalCluster(): boolean {
  const root = '/etc/postgresql';
  if (!existsSync(root) || !existsSync('/usr/bin/pg_ctlcluster')) return false;
  for (const version of readdirSync(root)) {
    try {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
    } catch {
      // already running, or another cluster: the connection attempt below decides
    }
  }
  return true;
}

/** The server's maintenance database `postgres`, as `connectionString`'s user on the same server. */
function maintenanceUrl(connectionString: string): string {
  const admin = new URL(connectionString);
  admin.pathname = '/postgres';
  return admin.toString();
}

function databaseName(connectionString: string): string {
  return decodeURIComponent(new URL(connectionString).pathname.slice(1)) || 'postgres';
}

/** Identifiers cannot be bound as parameters; quoted as PostgreSQL does. */
function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the database named in `connectionString` unless it exists. No connection timeout: this
 * may run while another service's first start blocks the event loop fetching its artifacts, and
 * a timer would fire before the reply is read. The server has answered before this is called.
 */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const database = databaseName(connectionString);
  const client = new Client({ connectionString: maintenanceUrl(connectionString) });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) await client.query(`create database ${quoteIdentifier(database)}`);
  } catch (error) {
    // Two clones creating it at once: the loser sees duplicate_database, which is success.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

/**
 * Drops the database named in `connectionString` if it exists. Not forced: while anything is
 * still connected to it (a registry this clone did not start, say) PostgreSQL refuses, and says so.
 */
export async function dropDatabase(connectionString: string): Promise<void> {
  const client = new Client({ connectionString: maintenanceUrl(connectionString) });
  await client.connect();
  try {
    await client.query(`drop database if exists ${quoteIdentifier(databaseName(connectionString))}`);
  } finally {
    await client.end();
  }
}

/**
 * Makes sure the database in `settings.databaseUrl` answers and exists: starts the local
 * server if it is installed but stopped, and creates the database if it is missing.
 */
export async function ensurePostgres(settings: ServiceSettings): Promise<string> {
  const target = new URL(settings.databaseUrl);
  const admin = maintenanceUrl(settings.databaseUrl);

  try {
    await postgresAnswers(admin);
  } catch (error) {
    if (!refused(error) || !startLocalCluster()) {
      throw new Error(
        `PostgreSQL at ${target.host} did not answer (${(error as Error).message}). ` +
          'Start it, set DATABASE_URL to one that runs, or run the services with Docker (docker compose up).',
      );
    }
    await waitUntil('PostgreSQL', () => postgresAnswers(admin), { timeoutMs: settings.startTimeoutMs });
  }

  await ensureDatabase(settings.databaseUrl);
  return postgresAnswers(settings.databaseUrl);
}
