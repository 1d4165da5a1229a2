import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { getContainerRuntimeClient } from 'testcontainers';
import { postgresContainerId, serviceEndpoints, servicesStartedBy } from '../setup/service-endpoints';

/**
 * The PostgreSQL under test, stopped and started again as an outage: the global setup's
 * container on the Docker path, else the machine's own Debian cluster. Either way a fast
 * shutdown (open sessions are ended, not waited for) and the same address afterwards.
 */
export interface DatabaseOutage {
  stop(): Promise<void>;
  start(): Promise<void>;
}

export function databaseUnderTest(): DatabaseOutage {
  return servicesStartedBy() === 'docker' ? postgresContainer(postgresContainerId()) : debianCluster();
}

function postgresContainer(id: string): DatabaseOutage {
  const container = async () => (await getContainerRuntimeClient()).container.getById(id);
  return {
    async stop() {
      const postgres = await container();
      // SIGINT is PostgreSQL's fast shutdown, whatever stop signal the image declares.
      await postgres.kill({ signal: 'SIGINT' });
      await postgres.wait();
    },
    async start() {
      await (await container()).start();
    },
  };
}

function debianCluster(): DatabaseOutage {
  const cluster = localCluster();
  return {
    async stop() {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'stop', '-m', 'fast']);
    },
    async start() {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'start']);
    },
  };
}

/** The Debian cluster version serving DATABASE_URL (the machine's own PostgreSQL). */
function localCluster(): string {
  const host = new URL(serviceEndpoints().databaseUrl).hostname;
  if (!existsSync('/usr/bin/pg_ctlcluster') || !['127.0.0.1', 'localhost'].includes(host)) {
    throw new Error('this scenario stops the local Debian PostgreSQL cluster (pg_ctlcluster); DATABASE_URL points elsewhere');
  }
  const [version] = readdirSync('/etc/postgresql');
  return version!;
}
