import type { ConnectionFailureCode } from '../../platform/connection-failures';
import { serviceEndpoints } from '../setup/service-endpoints';
import { testCertificates } from './tls-certificates';
import { tlsListener } from './tls-listener';

/**
 * Kafka connections a service cannot use and waiting cannot fix, as `it.each` rows: what it
 * meets, the failure code it must name, and the KAFKA_* variables that make it meet that. Both
 * services' start-up is tested against the same rows.
 */
export function unusableKafkaConnections(): Array<[string, ConnectionFailureCode, () => Promise<NodeJS.ProcessEnv>]> {
  const certificates = testCertificates();
  return [
    ['a broker certificate it does not trust', 'broker_certificate_untrusted', async () => ({ KAFKA_BROKERS: await tlsListener(certificates.selfSigned), KAFKA_SSL: 'true' })],
    ['a plaintext broker, with KAFKA_SSL=true', 'broker_expects_plaintext', async () => ({ KAFKA_BROKERS: serviceEndpoints().kafkaBrokers.join(','), KAFKA_SSL: 'true' })],
    ['a TLS listener, without KAFKA_SSL', 'broker_expects_tls', async () => ({ KAFKA_BROKERS: await tlsListener(certificates.server) })],
  ];
}
