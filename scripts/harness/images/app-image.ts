import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The variable naming the app image, for compose, the Docker smoke tests and `trade-webhooks/testing`. */
export const APP_IMAGE_VARIABLE = 'TRADE_WEBHOOKS_IMAGE';
export const DEFAULT_APP_IMAGE = 'trade-webhooks:local';

export function appImage(env: NodeJS.ProcessEnv = process.env): string {
  return env[APP_IMAGE_VARIABLE]?.trim() || DEFAULT_APP_IMAGE;
}

const ROOT = join(__dirname, '..', '..', '..');

/**
 * Builds the project's Dockerfile as `appImage()` on the Node image `nodeImage`. Docker's layer
 * cache makes a rebuild of unchanged sources take seconds. npm ci reaches the npm registry over
 * the host's network (`--network host`), trusting the PEM certificates in BUILD_CA_FILE too
 * where the network intercepts TLS.
 */
export function buildAppImage(nodeImage: string, env: NodeJS.ProcessEnv = process.env): void {
  const caFile = env.BUILD_CA_FILE?.trim();
  const caArgs = caFile ? ['--build-arg', `BUILD_CA_PEM=${readFileSync(caFile, 'utf8').trim()}`] : [];
  const args = ['build', '--quiet', '--network', 'host', '--build-arg', `NODE_IMAGE=${nodeImage}`, ...caArgs, '-t', appImage(env), '.'];
  const result = spawnSync('docker', args, { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
  if (result.status !== 0) throw new Error(`docker build of ${appImage(env)} exited ${result.status ?? result.signal}: ${(result.stderr || '').slice(-4000)}`);
}
