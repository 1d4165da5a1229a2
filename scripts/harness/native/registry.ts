import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { findJava } from './java';
import { cached, copyArtifact } from './maven';
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

function apicurioHome(settings: ServiceSettings): string {
  const coordinates = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
  return cached(join(settings.cacheDir, `apicurio-registry-${APICURIO_VERSION}`), (scratch) => {
    copyArtifact(coordinates, scratch);
    const archive = join(scratch, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    execFileSync('tar', ['-xzf', archive, '-C', scratch]);
    execFileSync('rm', ['-f', archive]);
  });
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
      // @kafkajs/confluent-schema-registry compares its compatibility with the subject's on
      // every register; Apicurio answers the global rule (NONE unless set) where Confluent says 404.
      '-Dapicurio.rules.global.compatibility=BACKWARD',
      '-Dquarkus.log.level=WARN',
      // Fills in response_time in the access log (.services/logs/registry.log): slow requests show.
      '-Dquarkus.http.record-request-start-time=true',
      '-jar',
      join(home, 'quarkus-run.jar'),
    ],
    cwd: home,
    marker,
  });
}

export function startRegistry(settings: ServiceSettings): Promise<StartResult> {
  const url = registryUrl(settings);
  return startService({
    settings,
    name: NAME,
    what: 'Schema registry',
    answers: () => registryAnswers(url),
    launch: () => launchRegistry(settings),
    ports: [settings.registryPort, settings.registryManagementPort],
  });
}

export function stopRegistry(settings: ServiceSettings): Promise<boolean> {
  return stopProcess(settings.stateDir, NAME);
}
