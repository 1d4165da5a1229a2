import { ConfigError, readProcessorConfig } from '../../processor/config';

describe('processor configuration', () => {
  it('has the documented defaults and is frozen', () => {
    const config = readProcessorConfig({});
    expect(config).toEqual(
      expect.objectContaining({
        consumerGroup: 'trade-webhook-processor',
        webhookEventsTopic: 'webhook-events',
        notificationsTopic: 'trade-notifications',
        deadLetterTopic: 'webhook-events.dlq',
        topicPartitions: 6,
        port: 8001,
        walletTables: true,
      }),
    );
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem together', () => {
    let error: unknown;
    try {
      readProcessorConfig({ TOPIC_PARTITIONS: '0', MIGRATE_WALLET_TABLES: 'maybe', DATABASE_URL: 'not a url' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'DATABASE_URL must be a postgres:// URL',
      'TOPIC_PARTITIONS must be a whole number from 1 to 10000',
      'MIGRATE_WALLET_TABLES must be true or false',
    ]);
  });
});
