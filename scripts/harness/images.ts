import { APICURIO_VERSION, KAFKA_VERSION } from './native/settings';

/**
 * The container images the Docker path runs: the official ones unless the environment names
 * others. Images built elsewhere (a mirror, or this project's `npm run images`, which builds them
 * from Debian's packages and Maven Central where no image registry is reachable) honour the
 * same environment contract as the official ones, so the same code starts either.
 */
export interface ServiceImages {
  /** apache/kafka's contract: KAFKA_* settings (`_` for `.`, `__` for `_`, `___` for `-`) and CLUSTER_ID. */
  readonly kafka: string;
  /** apicurio/apicurio-registry's: APICURIO_* settings, HTTP on 8080. */
  readonly registry: string;
  /** postgres's: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD, /docker-entrypoint-initdb.d. */
  readonly postgres: string;
  /** The Node.js image the app image is built on (node:24-bookworm-slim's layout: node and npm on PATH, a `node` user). */
  readonly node: string;
}

export const IMAGE_VARIABLES = {
  kafka: 'KAFKA_IMAGE',
  registry: 'SCHEMA_REGISTRY_IMAGE',
  postgres: 'POSTGRES_IMAGE',
  node: 'NODE_IMAGE',
} as const satisfies Record<keyof ServiceImages, string>;

export const OFFICIAL_IMAGES: ServiceImages = Object.freeze({
  kafka: `apache/kafka:${KAFKA_VERSION}`,
  registry: `apicurio/apicurio-registry:${APICURIO_VERSION}`,
  postgres: 'postgres:16',
  node: 'node:24-bookworm-slim',
});

export function serviceImages(env: NodeJS.ProcessEnv = process.env): ServiceImages {
  const pick = (key: keyof ServiceImages) => env[IMAGE_VARIABLES[key]]?.trim() || OFFICIAL_IMAGES[key];
  return Object.freeze({ kafka: pick('kafka'), registry: pick('registry'), postgres: pick('postgres'), node: pick('node') });
}
