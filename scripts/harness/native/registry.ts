import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { findJava } from './java';
import { cached, copyArtifact } from './maven';
import { ensureDatabase } from './postgres';
import { startProcess, stopProcess, type ManagedProcess } from './processes';
import { APICURIO_VERSION, type ServiceSettings } from './settings';
import { startService, type StartResult } from './start-service';

const NAME = 'registry';

export function registryUrl(settings: ServiceSettings): string {
  return `http://127.0.0.1:${settings.registryPort}/apis/ccompat/v7`;
}

export async function registryAnswers(url: string, timeoutMs = 3000): Promise<void> {
  const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
  if (response.status !== 200) throw new Error(`GET ${url}/subjects answered ${response.status}`);
}

/** The registry app, fetched from Maven Central once into the cache. */
export function apicurioHome(settings: Pick<ServiceSettings, 'cacheDir'>): string {
  const coordinates = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
  return cached(join(settings.cacheDir, `apicurio-registry-${APICURIO_VERSION}`), (scratch) => {
    copyArtifact(coordinates, scratch);
    const archive = join(scratch, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    execFileSync('tar', ['-xzf', archive, '-C', scratch]);
    execFileSync('rm', ['-f', archive]);
  });
}

/** How the registry reaches its database: a JDBC URL, with the user and password beside it. */
export interface RegistryDatasource {
  readonly url: string;
  readonly username: string;
  readonly password?: string;
}

/** libpq's connection parameters that pgjdbc reads under the same name. */
const SHARED_PARAMETERS = new Set(['sslmode', 'sslrootcert']);

/**
 * A `postgres://` URL as pgjdbc takes it. A parameter pgjdbc would not read is refused rather
 * than dropped, so a registry never connects with less than was asked. One meaning differs:
 * libpq's `sslmode=require` with a root certificate checks the server's certificate against it
 * (as `verify-ca`), pgjdbc's accepts any certificate, so it is handed on as `verify-ca`.
 */
export function jdbcDatasource(databaseUrl: string): RegistryDatasource {
  const url = new URL(databaseUrl);
  const unshared = [...url.searchParams.keys()].filter((name) => !SHARED_PARAMETERS.has(name));
  if (unshared.length > 0) {
    throw new Error(`The registry's database URL has parameters the registry's JDBC driver does not share with libpq: ${unshared.join(', ')}`);
  }
  if (url.searchParams.get('sslmode') === 'require' && url.searchParams.has('sslrootcert')) url.searchParams.set('sslmode', 'verify-ca');
  const jdbc = `jdbc:postgresql://${url.hostname || '127.0.0.1'}:${url.port || '5432'}${url.pathname}${url.search}`;
  // libpq's default user, when the URL names none, is the operating system's.
  const username = decodeURIComponent(url.username) || userInfo().username;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return password === undefined ? { url: jdbc, username } : { url: jdbc, username, password };
}

/**
 * The registry's settings as Apicurio Registry 3 reads them from the environment (a property's
 * name in capitals, dots and dashes as underscores): natively the JVM's environment, which keeps
 * the password off the command line, and in docker-compose.yml the container's; a test holds
 * the two together.
 */
export function registryEnvironment(datasource: RegistryDatasource): Record<string, string> {
  return {
    // @kafkajs/confluent-schema-registry compares its compatibility with the subject's on
    // every register; Apicurio answers the global rule (NONE unless set) where Confluent says 404.
    APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD',
    // Schemas in PostgreSQL, so that the ids already written into Kafka records still resolve
    // after a restart (the default is an in-memory H2 database).
    APICURIO_STORAGE_KIND: 'sql',
    APICURIO_STORAGE_SQL_KIND: 'postgresql',
    APICURIO_DATASOURCE_URL: datasource.url,
    APICURIO_DATASOURCE_USERNAME: datasource.username,
    ...(datasource.password === undefined ? {} : { APICURIO_DATASOURCE_PASSWORD: datasource.password }),
    // Apicurio holds 20 connections from the start and allows 100, PostgreSQL's whole default
    // max_connections; the services read schemas once and cache them, so a few are plenty.
    APICURIO_DATASOURCE_JDBC_INITIAL_SIZE: '2',
    APICURIO_DATASOURCE_JDBC_MIN_SIZE: '2',
    APICURIO_DATASOURCE_JDBC_MAX_SIZE: '10',
  };
}

function launchRegistry(settings: ServiceSettings): ManagedProcess {
  // Apicurio Registry 3.3 is built for Java 21.
  const java = findJava(21);
  const home = apicurioHome(settings);
  const marker = `-Dtrade-webhooks.service=${NAME}:${settings.stateDir}`;
  return startProcess({
    stateDir: settings.stateDir,
    name: NAME,
    command: java.path,
    args: [
      '-Xms128m',
      '-Xmx512m',
      marker,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${settings.registryPort}`,
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${settings.registryManagementPort}`,
      '-Dquarkus.log.level=WARN',
      // Fills in response_time in the access log (.services/logs/registry.log): slow requests show.
      '-Dquarkus.http.record-request-start-time=true',
      '-jar',
      join(home, 'quarkus-run.jar'),
    ],
    cwd: home,
    marker,
    env: { ...process.env, ...registryEnvironment(jdbcDatasource(settings.registryDatabaseUrl)) },
  });
}

/** Starts the registry unless it already answers, creating its database first if it is missing. */
export function startRegistry(settings: ServiceSettings): Promise<StartResult> {
  const url = registryUrl(settings);
  return startService({
    settings,
    name: NAME,
    what: 'Schema registry',
    answers: () => registryAnswers(url),
    launch: async () => {
      await ensureDatabase(settings.registryDatabaseUrl);
      return launchRegistry(settings);
    },
    ports: [settings.registryPort, settings.registryManagementPort],
  });
}

export function stopRegistry(settings: ServiceSettings): Promise<boolean> {
  return stopProcess(settings.stateDir, NAME);
}
