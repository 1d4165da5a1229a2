/** Tests run against real Kafka, schema registry and PostgreSQL: the global setup finds or starts them. */

/**
 * Test files whose subject is the native harness itself: each starts Java services (Kafka, the
 * registry, keytool) or a PostgreSQL cluster with pg_ctl of its own. The Docker path
 * (SERVICES_RUNTIME=docker) needs neither Java nor PostgreSQL's binaries on the host, so it
 * leaves them out; the native path runs them.
 */
const NATIVE_HARNESS_TESTS = [
  ['test/harness/native/', 'the native services (Kafka and the registry on Java, their certificates)'],
  ['test/harness/start-kafka-cluster.test.ts', 'starts native Kafka clusters on Java'],
  ['test/harness/kafka-certificates.test.ts', "makes the native cluster's key stores with Java's keytool"],
  ['test/processor/secured-cluster.test.ts', 'a native 3-broker SASL_SSL Kafka cluster on Java'],
  ['test/processor/database-connection.test.ts', 'a native TLS PostgreSQL started with initdb and pg_ctl'],
];

/** Smoke tests of the app image and docker compose: they need an engine, so only the Docker path runs them. */
const DOCKER_TESTS = ['test/docker/'];

/**
 * The path the global setup will take, decided here once, because the files run depend on it:
 * with SERVICES_RUNTIME unset and the services not named by the environment, Docker when
 * testcontainers finds an engine (as scripts/harness/choose-services.ts would), and the answer
 * is written to SERVICES_RUNTIME so the global setup and the workers take the same path.
 */
async function servicesRuntime() {
  const named = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL'].some((name) => process.env[name]);
  if (!process.env.SERVICES_RUNTIME?.trim() && !named) {
    const { getContainerRuntimeClient } = require('testcontainers');
    process.env.SERVICES_RUNTIME = await getContainerRuntimeClient().then(
      () => 'docker',
      () => 'native',
    );
  }
  return process.env.SERVICES_RUNTIME?.trim();
}

module.exports = async () => {
  const ignored = (await servicesRuntime()) === 'docker' ? NATIVE_HARNESS_TESTS.map(([path]) => path) : DOCKER_TESTS;
  return {
    testEnvironment: 'node',
    roots: ['<rootDir>/test'],
    testMatch: ['**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', ...ignored.map((path) => `<rootDir>/${path.replace(/\./g, '\\.')}`)],
    transform: { '^.+\\.ts$': 'ts-jest' },
    // The package's own exports, as a consumer imports them, from the TypeScript source: no build first.
    moduleNameMapper: { '^trade-webhooks/testing$': '<rootDir>/testing/index.ts' },
    globalSetup: '<rootDir>/test/setup/global-setup.ts',
    globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    testTimeout: 60000,
    maxWorkers: 2,
  };
};
