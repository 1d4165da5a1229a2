import { servicesDown } from './index';
import { serviceSettings } from './settings';

const DELETE_DATA = '--delete-data';

async function main(): Promise<void> {
  const unknown = process.argv.slice(2).filter((argument) => argument !== DELETE_DATA);
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}; the only one is ${DELETE_DATA}`);
  const deleteData = process.argv.includes(DELETE_DATA);
  const settings = serviceSettings();
  const { kafka, registry } = await servicesDown(settings, { deleteData });
  console.log(`Kafka: ${kafka ? 'stopped' : 'was not running from this clone'}`);
  console.log(`Schema registry: ${registry ? 'stopped' : 'was not running from this clone'}`);
  if (deleteData) {
    const database = new URL(settings.registryDatabaseUrl);
    console.log(`Deleted Kafka's data (of every broker count and security kept) and the registry's database (${database.host}${database.pathname})`);
  } else {
    console.log(`Kafka's data and the registry's schemas are kept; npm run services:down -- ${DELETE_DATA} deletes both`);
  }
}

main().catch((error: Error) => {
  console.error(`services:down failed: ${error.message}`);
  process.exit(1);
});
