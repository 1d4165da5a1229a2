import { startKafkaCluster, type KafkaCluster, type KafkaClusterOptions } from '../../scripts/harness/native/start-kafka-cluster';
import { onCleanup } from './cleanup';

/**
 * A native Kafka cluster of the test's own, stopped and removed after the file's tests, for
 * tests that kill, stop and restart brokers or need a secured listener. Its start-up time is
 * printed: on a small machine it is most of the test's time.
 */
export async function ownCluster(options: KafkaClusterOptions): Promise<KafkaCluster> {
  const cluster = await startKafkaCluster(options);
  onCleanup(() => cluster.stop());
  process.stdout.write(`\nKafka cluster of ${options.brokers} broker(s), ${options.security ?? 'plaintext'}: ready in ${cluster.startupMs} ms\n`);
  return cluster;
}
