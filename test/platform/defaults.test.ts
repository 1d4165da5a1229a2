import { SERVICE_DEFAULTS } from '../../platform/defaults';
import { readProcessorConfig } from '../../processor/config';
import { readReceiverConfig } from '../../receiver/config';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';

describe('defaults shared by both services', () => {
  it('are what the receiver and the processor read when nothing is set', () => {
    const receiver = readReceiverConfig({ ...TEST_SECRETS, RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL });
    const processor = readProcessorConfig({});
    const shared = {
      kafkaBrokers: ['127.0.0.1:9092'],
      schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
      topicPartitions: 6,
      logLevel: 'info',
      host: '0.0.0.0',
    };
    expect(receiver).toEqual(expect.objectContaining({ ...shared, topic: 'webhook-events' }));
    expect(processor).toEqual(expect.objectContaining({ ...shared, webhookEventsTopic: 'webhook-events' }));
    expect(SERVICE_DEFAULTS).toEqual({ ...shared, kafkaBrokers: '127.0.0.1:9092', webhookEventsTopic: 'webhook-events' });
  });
});
