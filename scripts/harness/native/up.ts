import type { KafkaEndpoint } from './kafka-client';
import { kafkaHome } from './kafka-nodes';
import { servicesUp } from './index';
import { serviceSettings } from './settings';

const describe = { started: 'started', running: 'already running (started earlier by this clone)', external: 'already answering (not started by this clone; left alone)' };

/** The variables a service is started with to reach Kafka; secrets only ever as the path of their file. */
function printClientSettings(title: string, endpoint: KafkaEndpoint): void {
  console.log(title);
  for (const [name, value] of Object.entries(endpoint.env)) console.log(`  ${name}=${value}`);
}

async function main(): Promise<void> {
  const began = Date.now();
  const settings = serviceSettings();
  const services = await servicesUp(settings);
  const registryDatabase = new URL(settings.registryDatabaseUrl);
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  const brokers = settings.kafkaBrokerCount;
  const shape = brokers === 1 && settings.kafkaSecurity === 'plaintext' ? '' : ` (${brokers === 1 ? '1 node' : `${brokers} brokers and a controller`}, ${settings.kafkaSecurity})`;
  console.log(`Kafka            ${services.kafkaBrokers}  ${describe[services.kafka]}${services.kafka === 'external' ? '' : shape}`);
  if (services.kafka !== 'external') console.log(`                 data kept in ${kafkaHome(settings.stateDir, brokers, settings.kafkaSecurity)}`);
  console.log(`Schema registry  ${services.schemaRegistryUrl}  ${describe[services.registry]}`);
  if (services.registry !== 'external') console.log(`                 schemas kept in ${registryDatabase.host}${registryDatabase.pathname}`);
  console.log(`PostgreSQL       ${new URL(services.databaseUrl).host}${new URL(services.databaseUrl).pathname}  ${services.versions.postgres.split(' on ')[0]}`);
  if (settings.kafkaSecurity === 'sasl_ssl' && services.kafka !== 'external') {
    printClientSettings('Kafka client settings (SASL_SSL, SCRAM-SHA-512 or -256, the run\'s CA):', services.kafkaEndpoint);
    if (services.kafkaMutualTls) printClientSettings('or, for mutual TLS (the SSL listeners, the run\'s client certificate):', services.kafkaMutualTls);
  }
  console.log(`Services ready in ${seconds} s. Stop them with: npm run services:down`);
}

main().catch((error: Error) => {
  console.error(`services:up failed: ${error.message}`);
  process.exit(1);
});
