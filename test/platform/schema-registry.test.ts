import type { ServerResponse } from 'node:http';
import { TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { serviceEndpoints } from '../setup/service-endpoints';
import { uniqueName } from '../support/names';
import { registryProxy } from '../support/registry-proxy';

/**
 * An HTTP proxy in front of the real registry that leaves the first `count` requests with
 * `method` (any method if not given) unanswered, as a stalled registry would, and forwards
 * the rest.
 */
async function stallingRegistry(stall: { count: number; method?: string }): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const held: ServerResponse[] = [];
  const { url } = await registryProxy(
    (incoming, outgoing) => {
      seen.push(`${incoming.method} ${incoming.url}`);
      if ((stall.method === undefined || incoming.method === stall.method) && held.length < stall.count) {
        held.push(outgoing);
        incoming.resume();
        return undefined;
      }
      return incoming.url;
    },
    { onClose: () => held.forEach((response) => response.destroy()) },
  );
  return { url, seen };
}

describe('registry client', () => {
  it.each(['GET', 'POST'])('sends a %s the registry left unanswered again, and registers the schema', async (method) => {
    const topic = uniqueName('stalled');
    const proxy = await stallingRegistry({ count: 2, method });
    const id = await registerValueSchema(createRegistry(proxy.url, { timeoutMs: 1500 }), topic, WEBHOOK_EVENT_SCHEMA_FILE);

    expect(await registerValueSchema(createRegistry(serviceEndpoints().schemaRegistryUrl), topic, WEBHOOK_EVENT_SCHEMA_FILE)).toBe(id);
    // The first request with that method, twice unanswered, was sent a third time.
    const first = proxy.seen.findIndex((line) => line.startsWith(`${method} `));
    expect(proxy.seen.slice(first, first + 3)).toEqual(Array(3).fill(proxy.seen[first]));
  });

  it('gives up with a timeout once every attempt went unanswered', async () => {
    const proxy = await stallingRegistry({ count: Number.POSITIVE_INFINITY });
    await expect(registerValueSchema(createRegistry(proxy.url, { timeoutMs: 200 }), uniqueName('dead'), WEBHOOK_EVENT_SCHEMA_FILE)).rejects.toThrow(/Timeout \(200ms\)/);
    expect(proxy.seen).toHaveLength(4);
  });
});

describe('registry client: Avro longs', () => {
  it('encodes ids above 2^53 exactly and decodes them to bigints, timestamps to numbers', async () => {
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    const id = await registerValueSchema(registry, uniqueName('ids'), TRADE_NOTIFICATION_SCHEMA_FILE);
    const occurredAt = Date.parse('2026-01-01T00:00:00Z');
    const notification = {
      event_id: 'e1',
      user_id: '1234567890123456789',
      trade_id: '9223372036854775807',
      status: 'completed',
      trade_type: 'buy',
      crypto_amount: null,
      crypto_currency: null,
      fiat_amount: null,
      fiat_currency: null,
      occurred_at: occurredAt,
    };
    const encoded = await registry.encode(id, notification);

    // Another client, so the schema is read back from the registry, not from the encoder's cache.
    const decoded = await createRegistry(serviceEndpoints().schemaRegistryUrl).decode(encoded);
    expect({ ...decoded }).toEqual({ ...notification, user_id: 1234567890123456789n, trade_id: 9223372036854775807n, occurred_at: occurredAt });
  });

  it('registers the same schema twice through one client', async () => {
    const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
    const topic = uniqueName('twice');
    const first = await registerValueSchema(registry, topic, TRADE_NOTIFICATION_SCHEMA_FILE);
    expect(await registerValueSchema(registry, topic, TRADE_NOTIFICATION_SCHEMA_FILE)).toBe(first);
  });
});
