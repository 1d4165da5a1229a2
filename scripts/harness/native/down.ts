import { servicesDown } from './index';

servicesDown()
  .then(({ kafka, registry }) => {
    console.log(`Kafka: ${kafka ? 'stopped' : 'was not running from this clone'}`);
    console.log(`Schema registry: ${registry ? 'stopped' : 'was not running from this clone'}`);
  })
  .catch((error: Error) => {
    console.error(`services:down failed: ${error.message}`);
    process.exit(1);
  });
