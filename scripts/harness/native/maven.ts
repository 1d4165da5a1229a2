import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

function mvn(args: string[], what: string): void {
  try {
    execFileSync('mvn', ['-q', '-B', '-Dstyle.color=never', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error(`Fetching ${what} needs Maven (mvn) on PATH: install Maven 3, or run the services with Docker (docker compose up).`);
    }
    throw new Error(`Maven could not fetch ${what} from Maven Central: see its output above.`);
  }
}

/**
 * Fills `target` once: `fill` writes into a scratch folder that is renamed into place only
 * when it is complete, so an interrupted download is never mistaken for a cached one.
 */
export function cached(target: string, fill: (scratch: string) => void): string {
  if (existsSync(target)) return target;
  const scratch = `${target}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    fill(scratch);
    mkdirSync(dirname(target), { recursive: true });
    renameSync(scratch, target);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return target;
}

/** Every runtime jar of the artifacts a POM depends on, copied into `outputDir`. */
export function copyDependencies(pom: string, outputDir: string, what: string): void {
  mvn(['-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${outputDir}`, '-DincludeScope=runtime'], what);
}

/** One artifact (`group:artifact:version:type:classifier`) copied into `outputDir`. */
export function copyArtifact(coordinates: string, outputDir: string): void {
  mvn(['dependency:copy', `-Dartifact=${coordinates}`, `-DoutputDirectory=${outputDir}`], coordinates);
}
