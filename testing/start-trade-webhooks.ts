import { randomBytes } from 'node:crypto';
import { GenericContainer, getContainerRuntimeClient, ImageName, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { SECRET_VARIABLES } from '../platform/secret-variables';
import type { WebhookType } from '../schemas/webhook-catalog';
import { naming, startContainers, stopAll, type ServiceAddresses } from '../scripts/harness/containers';
import { serviceImages, type ServiceImages } from '../scripts/harness/images';
import { APP_IMAGE_VARIABLE, DEFAULT_APP_IMAGE } from '../scripts/harness/images/app-image';
import { signedRequest } from '../sender/send-webhook';

/** The four webhooks by the short names teams call them: a buy or sell completion, a trade status, a Relworx payment. */
export type WebhookKind = 'buy' | 'sell' | 'trade' | 'relworx';

const WEBHOOK_TYPES: Readonly<Record<WebhookKind, WebhookType>> = Object.freeze({
  buy: 'buy_completion',
  sell: 'sell_completion',
  trade: 'trade_status',
  relworx: 'relworx_payment',
});


/** Relworx signs the callback URL as registered with it; the receiver is configured with this one. */
export const RELWORX_CALLBACK_URL = 'http://receiver:8000/api/webhooks/relworx';

export interface StartOptions {
  /** A network of the caller's to start every container on (default: a new one, removed by stop()). */
  readonly network?: StartedNetwork;
  /** The webhook secrets the receiver checks (default: 32 random bytes each, hex). A comma-separated list is a rotation: the first signs. */
  readonly secrets?: Partial<Record<WebhookKind, string>>;
  /** Images to run (default: serviceImages(), from KAFKA_IMAGE etc.; the app from TRADE_WEBHOOKS_IMAGE, else trade-webhooks:local). */
  readonly images?: Partial<ServiceImages> & { readonly app?: string };
}

export interface StartedTradeWebhooks {
  /** The receiver, from the host: `${receiverUrl}/api/webhooks/buy-complete` etc. */
  readonly receiverUrl: string;
  /** The processor's health and metrics endpoints (/readyz, /metrics), from the host. */
  readonly processorUrl: string;
  /** Kafka from the host, comma-separated host:port, for kafkajs's `brokers`. */
  readonly kafkaBrokers: string;
  /** The registry's Confluent-compatible API, from the host. */
  readonly schemaRegistryUrl: string;
  /** PostgreSQL from the host, migrated: `trades`, `webhook_events`, `outbox`… */
  readonly databaseUrl: string;
  /** The same services from a container on `network`, for a service of the caller's started there. */
  readonly inNetwork: ServiceAddresses & { readonly receiverUrl: string };
  readonly network: StartedNetwork;
  /** The secrets the receiver was started with. */
  readonly secrets: Readonly<Record<WebhookKind, string>>;
  /** The Relworx callback URL the receiver checks Relworx signatures against. */
  readonly relworxCallbackUrl: string;
  /**
   * POSTs `body` (a JSON text, sent as it is, or a value, serialized) to `type`'s endpoint,
   * signed as a sender would sign it: Standard Webhooks for buy, sell and trade, Relworx's own
   * scheme for relworx. One attempt; the receiver's answer is returned as it is.
   */
  send(type: WebhookKind, body: unknown): Promise<Response>;
  /** Stops and removes every container, and the network when start created it. */
  stop(): Promise<void>;
}

const RECEIVER_PORT = 8000;
const PROCESSOR_PORT = 8001;
const START_TIMEOUT_MS = 180_000;
/** Lines of a failed container's output an error carries: enough to show why, not the whole log. */
const LOG_TAIL_LINES = 40;

function defaultSecrets(): Record<WebhookKind, string> {
  const secret = () => randomBytes(32).toString('hex');
  return { buy: secret(), sell: secret(), trade: secret(), relworx: secret() };
}

/** A container's output, kept (the last lines only) for the error that explains a failed start. */
function outputTail(): { consume(stream: NodeJS.ReadableStream): void; text(): string } {
  const lines: string[] = [];
  return {
    consume(stream) {
      stream.on('data', (chunk: Buffer | string) => {
        lines.push(...chunk.toString().split('\n').filter((line) => line.trim() !== ''));
        lines.splice(0, Math.max(0, lines.length - LOG_TAIL_LINES));
      });
    },
    text: () => lines.join('\n'),
  };
}

/** Starts `definition`; a failure carries the container's last output lines. */
async function startWithOutput(what: string, image: string, definition: GenericContainer): Promise<StartedTestContainer> {
  const output = outputTail();
  return naming(
    what,
    image,
    definition
      .withLogConsumer((stream) => output.consume(stream))
      .start()
      .catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n${what}'s last output:\n${output.text() || '(none)'}`, { cause: error });
      }),
  );
}

async function requireImage(image: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  if (await client.image.exists(ImageName.fromString(image))) return;
  throw new Error(
    `the app image ${image} is not on this Docker engine: build it from the trade-webhooks repository with ` +
      `\`docker build -t ${image} .\` (or name another with ${APP_IMAGE_VARIABLE} or options.images.app)`,
  );
}

/**
 * The whole system in containers: Kafka, the schema registry and PostgreSQL, the migrations
 * (which must exit 0), then the receiver and the processor, both ready (/readyz). Every
 * container joins one network, so a caller's own containers there can reach them too. What was
 * started is stopped again if a later step fails: nothing else reaps it.
 */
export async function startTradeWebhooks(options: StartOptions = {}): Promise<StartedTradeWebhooks> {
  const { app: appOption, ...serviceOptions } = options.images ?? {};
  const images = { ...serviceImages(), ...serviceOptions };
  const app = appOption?.trim() || process.env[APP_IMAGE_VARIABLE]?.trim() || DEFAULT_APP_IMAGE;
  const secrets = Object.freeze({ ...defaultSecrets(), ...options.secrets });
  await requireImage(app);

  const network = options.network ?? (await new Network().start());
  // In the order started; stopped the other way round, so the app stops while Kafka and the database are still up.
  const layers: Array<Array<{ stop(): Promise<unknown> }>> = [];
  const stopEverything = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const layer of layers.splice(0).reverse()) await stopAll(layer).catch((error: unknown) => failures.push(error));
    if (!options.network) await network.stop().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'trade-webhooks did not stop cleanly');
  };

  try {
    const services = await startContainers(images, network);
    layers.push([services]);
    const inNetwork = services.inNetwork!;
    const appContainer = (command: string) =>
      new GenericContainer(app).withNetwork(network).withCommand(['node', command]).withStartupTimeout(START_TIMEOUT_MS);

    // Exited with 0 once started; a non-zero exit fails the start. Kept until stop() removes it.
    const migrate = await startWithOutput('The migrations', app, appContainer('dist/processor/migrate.js')
      .withEnvironment({ DATABASE_URL: inNetwork.databaseUrl })
      .withWaitStrategy(Wait.forOneShotStartup()));
    layers.push([migrate]);

    const kafkaAndRegistry = { KAFKA_BROKERS: inNetwork.kafkaBrokers, SCHEMA_REGISTRY_URL: inNetwork.schemaRegistryUrl };
    const receiverEnvironment = Object.fromEntries(Object.entries(WEBHOOK_TYPES).map(([kind, type]) => [SECRET_VARIABLES[type], secrets[kind as WebhookKind]]));
    const [receiver, processor] = await Promise.allSettled([
      startWithOutput('The receiver', app, appContainer('dist/receiver/main.js')
        .withNetworkAliases('receiver')
        .withEnvironment({ ...kafkaAndRegistry, ...receiverEnvironment, RELWORX_CALLBACK_URL, RATE_LIMIT_PER_SECOND: '0' })
        .withExposedPorts(RECEIVER_PORT)
        .withWaitStrategy(Wait.forHttp('/readyz', RECEIVER_PORT).forStatusCode(200))),
      startWithOutput('The processor', app, appContainer('dist/processor/main.js')
        .withNetworkAliases('processor')
        .withEnvironment({ ...kafkaAndRegistry, DATABASE_URL: inNetwork.databaseUrl })
        .withExposedPorts(PROCESSOR_PORT)
        .withWaitStrategy(Wait.forHttp('/readyz', PROCESSOR_PORT).forStatusCode(200))),
    ]);
    layers.push([receiver, processor].flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    if (receiver.status === 'rejected') throw receiver.reason;
    if (processor.status === 'rejected') throw processor.reason;

    const receiverUrl = `http://${receiver.value.getHost()}:${receiver.value.getMappedPort(RECEIVER_PORT)}`;
    return {
      receiverUrl,
      processorUrl: `http://${processor.value.getHost()}:${processor.value.getMappedPort(PROCESSOR_PORT)}`,
      kafkaBrokers: services.kafkaBrokers,
      schemaRegistryUrl: services.schemaRegistryUrl,
      databaseUrl: services.databaseUrl,
      inNetwork: Object.freeze({ ...inNetwork, receiverUrl: `http://receiver:${RECEIVER_PORT}` }),
      network,
      secrets,
      relworxCallbackUrl: RELWORX_CALLBACK_URL,
      send(type, body) {
        if (!Object.hasOwn(WEBHOOK_TYPES, type)) return Promise.reject(new RangeError(`unknown webhook "${String(type)}"; one of ${Object.keys(WEBHOOK_TYPES).join(', ')}`));
        const request = signedRequest(receiverUrl, WEBHOOK_TYPES[type], body, {
          secret: secrets[type],
          standard: type !== 'relworx',
          callbackUrl: RELWORX_CALLBACK_URL,
        });
        return fetch(request.url, { method: 'POST', body: request.body, headers: request.headers });
      },
      stop: stopEverything,
    };
  } catch (error) {
    await stopEverything().catch(() => undefined);
    throw error;
  }
}
