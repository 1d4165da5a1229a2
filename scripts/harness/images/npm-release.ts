import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cached } from '../native/maven';

function parts(version: string): number[] {
  return version.split('-')[0]!.split('.').map(Number);
}

/** The highest of release versions (`24.9.0` is below `24.21.0`); pre-releases are left out. */
export function newestOf(versions: readonly string[]): string {
  const releases = versions.filter((version) => /^\d+\.\d+\.\d+$/.test(version));
  if (releases.length === 0) throw new Error(`no release among versions ${versions.join(', ')}`);
  return releases.reduce((best, version) => {
    const [a, b] = [parts(version), parts(best)];
    const index = a.findIndex((value, i) => value !== b[i]);
    return index >= 0 && a[index]! > b[index]! ? version : best;
  });
}

/** The newest release of a package within a major version, as the npm registry says now. */
export function newestRelease(name: string, major: number): string {
  const answer = JSON.parse(execFileSync('npm', ['view', `${name}@${major}`, 'version', '--json'], { encoding: 'utf8' })) as string | string[];
  return newestOf(Array.isArray(answer) ? answer : [answer]);
}

/** The package's tarball (`npm pack`), fetched once into the cache. */
export function packedPackage(cacheDir: string, name: string, version: string): string {
  const dir = cached(join(cacheDir, 'images', `${name}-${version}`), (scratch) => {
    execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', scratch, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  });
  return join(dir, `${name}-${version}.tgz`);
}
