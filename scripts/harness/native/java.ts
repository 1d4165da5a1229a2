import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Java {
  readonly path: string;
  readonly major: number;
}

function versionOf(javaPath: string): number | undefined {
  // `java -version` prints to stderr.
  const result = spawnSync(javaPath, ['-version'], { encoding: 'utf8', timeout: 10_000 });
  return parseMajor(`${result.stderr ?? ''}${result.stdout ?? ''}`);
}

function parseMajor(text: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}

function candidates(env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  if (env.JAVA_HOME) found.push(join(env.JAVA_HOME, 'bin', 'java'));
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir) found.push(join(dir, 'java'));
  }
  const jvmRoot = '/usr/lib/jvm';
  if (existsSync(jvmRoot)) {
    for (const name of readdirSync(jvmRoot)) found.push(join(jvmRoot, name, 'bin', 'java'));
  }
  return [...new Set(found)].filter((path) => existsSync(path));
}

/**
 * Finds a JDK of at least `minimum`: JAVA_HOME, then PATH, then /usr/lib/jvm.
 * Kafka 4.1 needs 17; Apicurio Registry 3.3 is compiled for 21.
 */
export function findJava(minimum: number, env: NodeJS.ProcessEnv = process.env): Java {
  // The Docker path runs every service in a container: a native one started there would pass
  // on a machine with Java and fail on one without, so it fails everywhere instead.
  if (env.SERVICES_RUNTIME?.trim() === 'docker') {
    throw new Error(
      `SERVICES_RUNTIME=docker runs the services in containers, yet a native service asked for Java ${minimum}+: ` +
        'whatever started it must start a container on the Docker path (or be left out of it in jest.config.js).',
    );
  }
  const seen: string[] = [];
  for (const path of candidates(env)) {
    const major = versionOf(path);
    if (major === undefined) continue;
    if (major >= minimum) return { path, major };
    seen.push(`${path} (${major})`);
  }
  const had = seen.length > 0 ? ` Found only: ${seen.join(', ')}.` : ' Found none.';
  throw new Error(
    `No Java ${minimum}+ found (looked at JAVA_HOME, PATH and /usr/lib/jvm).${had} ` +
      `Install a JDK ${minimum} or newer and set JAVA_HOME, or run the services in containers (SERVICES_RUNTIME=docker).`,
  );
}

/** The keytool beside a JDK's java. */
export function keytoolOf(javaPath: string): string {
  return join(dirname(javaPath), 'keytool');
}
