import { execFileSync, spawnSync } from 'node:child_process';
import { INPUTS_LABEL } from './input-hash';

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Runs docker with its output shown, failing with `what` if it does. */
function dockerShown(args: string[], what: string): void {
  // The legacy builder: the engine (20.10) has no BuildKit front end this CLI can use without buildx.
  const result = spawnSync('docker', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  if (result.status !== 0) throw new Error(`${what} failed (docker ${args[0]} exited with ${result.status ?? result.signal})`);
}

function inputsOf(tag: string): string | undefined {
  try {
    return docker(['image', 'inspect', '--format', `{{index .Config.Labels "${INPUTS_LABEL}"}}`, tag]) || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the image was already tagged with the same inputs, or was built. */
export type Outcome = 'present' | 'built';

/**
 * Makes `tag` an image built from inputs of hash `hash`: the one tagged so already, else the one
 * `build` makes (which must label it). Only the tag's own label counts: an image built FROM one
 * of these inherits its label, so another image with the same label may be one built on it.
 */
export function ensureImage(tag: string, hash: string, build: () => void): Outcome {
  if (inputsOf(tag) === hash) return 'present';
  build();
  if (inputsOf(tag) !== hash) throw new Error(`${tag} was built but does not carry the label ${INPUTS_LABEL}=${hash}`);
  return 'built';
}

/** `docker build` of `context`, on the host's network (apt and npm fetch during the build). */
export function buildImage(options: { context: string; tag: string; hash: string; buildArgs: Readonly<Record<string, string>> }): void {
  const args = Object.entries(options.buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);
  dockerShown(['build', '--network', 'host', '--label', `${INPUTS_LABEL}=${options.hash}`, ...args, '--tag', options.tag, options.context], `Building ${options.tag}`);
}

/** A root file system's tarball as an image of its own, with Dockerfile instructions (`ENV ...`) applied. */
export function importImage(options: { tarball: string; tag: string; hash: string; changes: readonly string[] }): void {
  const changes = [`LABEL ${INPUTS_LABEL}=${options.hash}`, ...options.changes].flatMap((change) => ['--change', change]);
  dockerShown(['import', ...changes, options.tarball, options.tag], `Importing ${options.tag}`);
}

export function imageSize(tag: string): number {
  return Number(docker(['image', 'inspect', '--format', '{{.Size}}', tag]));
}
