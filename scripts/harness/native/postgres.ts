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

/**
 * Makes sure the database in `settings.databaseUrl` answers and exists: starts the local
 * server if it is installed but stopped, and creates the database if it is missing.
 */
export async function ensurePostgres(settings: ServiceSettings): Promise<string> {
  const target = new URL(settings.databaseUrl);
  const database = decodeURIComponent(target.pathname.slice(1)) || 'postgres';
  const admin = new URL(settings.databaseUrl);
  admin.pathname = '/postgres';

  try {
    await postgresAnswers(admin.toString());
  } catch (error) {
    if (!refused(error) || !startLocalCluster()) {
      throw new Error(
        `PostgreSQL at ${target.host} did not answer (${(error as Error).message}). ` +
          'Start it, set DATABASE_URL to one that runs, or run the services with Docker (docker compose up).',
      );
    }
    await waitUntil('PostgreSQL', () => postgresAnswers(admin.toString()), { timeoutMs: settings.startTimeoutMs });
  }

  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) {
      // Identifiers cannot be bound as parameters; quote it as PostgreSQL does.
      await client.query(`create database "${database.replace(/"/g, '""')}"`);
    }
  } catch (error) {
    // Two clones creating it at once: the loser sees duplicate_database, which is success.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
  return postgresAnswers(settings.databaseUrl);
}
