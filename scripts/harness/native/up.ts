import { servicesUp } from './index';
import { serviceSettings } from './settings';

const describe = { started: 'started', running: 'already running (started earlier by this clone)', external: 'already answering (not started by this clone; left alone)' };

async function main(): Promise<void> {
  const began = Date.now();
  const settings = serviceSettings();
  const services = await servicesUp(settings);
  const registryDatabase = new URL(settings.registryDatabaseUrl);
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  console.log(`Kafka            ${services.kafkaBrokers}  ${describe[services.kafka]}`);
  console.log(`Schema registry  ${services.schemaRegistryUrl}  ${describe[services.registry]}`);
  if (services.registry !== 'external') console.log(`                 schemas kept in ${registryDatabase.host}${registryDatabase.pathname}`);
  console.log(`PostgreSQL       ${new URL(services.databaseUrl).host}${new URL(services.databaseUrl).pathname}  ${services.versions.postgres.split(' on ')[0]}`);
  console.log(`Services ready in ${seconds} s. Stop them with: npm run services:down`);
}

main().catch((error: Error) => {
  console.error(`services:up failed: ${error.message}`);
  process.exit(1);
});
