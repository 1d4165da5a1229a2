import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createKafka } from '../../platform/kafka';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { readReceiverConfig, type ReceiverConfig } from '../../receiver/config';
import { assembleReceiver } from '../../receiver/assemble';
import type { EventPublisher } from '../../receiver/event-publisher';
import { createLogger } from '../../platform/logger';
import type { Receiver } from '../../receiver/server';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';
import { serviceProcess, type ServiceProcess } from './service-process';
import { withinDeadline } from './wait-for';

export const TEST_SECRETS = Object.freeze({
  BUY_WEBHOOK_SECRET: 'buy-secret-for-tests-0123456789abcdef',
  SELL_WEBHOOK_SECRET: 'sell-secret-for-tests-0123456789abcdef',
  TRADE_WEBHOOK_SECRET: 'trade-secret-for-tests-0123456789abcdef',
  RELWORX_WEBHOOK_SECRET: 'relworx-secret-for-tests-0123456789abcdef',
});

export const TEST_RELWORX_CALLBACK_URL = 'https://exchange.example/api/v1/webhooks/relworx';

/** Log lines captured from a real pino logger, parsed. */
export class CapturedLogs extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly text: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line) {
        this.text.push(line);
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    }
    done();
  }
  messages(): string[] {
    return this.lines.map((line) => String(line.msg));
  }
}

export interface TestReceiver {
  readonly url: string;
  readonly receiver: Receiver;
  readonly publisher: EventPublisher;
  readonly config: ReceiverConfig;
  readonly logs: CapturedLogs;
}

/** A real receiver on a free port, writing to `topic` on the test broker (or `brokers`). */
export async function startTestReceiver(options: { topic: string; env?: Record<string, string>; brokers?: string[] }): Promise<TestReceiver> {
  const endpoints = serviceEndpoints();
  const config = readReceiverConfig({
    ...TEST_SECRETS,
    RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
    KAFKA_BROKERS: (options.brokers ?? endpoints.kafkaBrokers).join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    WEBHOOK_EVENTS_TOPIC: options.topic,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_SECOND: '0',
    ...options.env,
  });
  const logs = new CapturedLogs();
  const logger = createLogger({ level: config.logLevel, name: 'receiver' }, logs);
  const registry = createRegistry(config.schemaRegistryUrl);
  const schemaId = await withinDeadline('registering the WebhookEvent schema', registerValueSchema(registry, config.topic, WEBHOOK_EVENT_SCHEMA_FILE));
  const kafka = createKafka({ clientId: 'trade-webhooks-receiver', brokers: config.kafkaBrokers, logger });
  const { receiver, publisher } = assembleReceiver({ config, logger, kafka, registry, schemaId });
  await withinDeadline('starting the publisher', receiver.serve(publisher));
  const address: AddressInfo = await withinDeadline('starting the receiver', receiver.listen());
  onCleanup(() => receiver.close());
  return { url: `http://127.0.0.1:${address.port}`, receiver, publisher, config, logs };
}

/**
 * The receiver as a process of its own on 127.0.0.1:`port`, writing to `topic` on the test's
 * services, with the test secrets and no rate limit; `env` adds or overrides settings.
 */
export function receiverProcess(options: { port: number; topic: string; env?: NodeJS.ProcessEnv }): ServiceProcess {
  const endpoints = serviceEndpoints();
  return serviceProcess(
    'receiver',
    {
      ...TEST_SECRETS,
      RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      WEBHOOK_EVENTS_TOPIC: options.topic,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '0',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    `http://127.0.0.1:${options.port}/readyz`,
  );
}
