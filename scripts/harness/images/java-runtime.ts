import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached } from '../native/maven';
import { inputHash } from './input-hash';

/** The host's JDK the registry's runtime is made from: Debian bookworm has no Java newer than 17. */
export const JDK_HOME = '/usr/lib/jvm/temurin-25-jdk-amd64';

const JLINK_OPTIONS = ['--strip-debug', '--no-man-pages', '--no-header-files', '--compress=zip-6'];

/**
 * Every module of the JDK but the ones that build images (this JDK has no packaged modules, and
 * cannot link a runtime that holds jlink itself) and the incubating ones.
 */
function runtimeModules(): string[] {
  return execFileSync(join(JDK_HOME, 'bin', 'java'), ['--list-modules'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split('@')[0]!.trim())
    .filter((name) => name && !/^jdk\.(jlink|jpackage|incubator\..*)$/.test(name));
}

/** What the runtime is made of: the JDK's release and the link options. */
export function javaRuntimeInputs(): string[] {
  return [readFileSync(join(JDK_HOME, 'release'), 'utf8'), ...JLINK_OPTIONS];
}

/** A Java runtime linked from the JDK, about a third of its size, kept in the cache. */
export function javaRuntime(cacheDir: string): string {
  const hash = inputHash({ files: {}, buildArgs: {}, parts: javaRuntimeInputs() });
  const dir = cached(join(cacheDir, 'images', `java-runtime-${hash.slice(0, 12)}`), (scratch) => {
    execFileSync(join(JDK_HOME, 'bin', 'jlink'), ['--add-modules', runtimeModules().join(','), ...JLINK_OPTIONS, '--output', join(scratch, 'jre')], { stdio: 'inherit' });
  });
  return join(dir, 'jre');
}
