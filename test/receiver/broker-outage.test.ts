import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsWithLeaders } from '../../platform/topics';
import { signPayload } from '../../schemas/signatures';
import { ownBroker } from '../support/own-broker';
import { startTestReceiver, TEST_SECRETS } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { uniqueName } from '../support/names';

async function postBuy(url: string, tradeId: number): Promise<{ status: number; retryAfter: string | null; ms: number }> {
  const body = JSON.stringify({ trade_id: tradeId, status: 'completed', transaction_hash: `0x${tradeId}` });
  const started = Date.now();
  const response = await fetch(`${url}/api/webhooks/buy-complete`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET) },
  });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - started };
}

async function until<T>(what: string, attempt: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await sleep(250);
  }
}

describe('receiver: Kafka outage', () => {
  it('answers 503 within the bound while the broker is down, and 202 again once it is back, without a restart', async () => {
    const broker = await ownBroker();
    const topic = uniqueName('outage');
    const receiver = await startTestReceiver({ topic, brokers: broker.brokers, env: { KAFKA_ACK_TIMEOUT_MS: '2000' } });

    // Nothing listens on the broker's address yet.
    const down = await postBuy(receiver.url, 1);
    expect(down.status).toBe(503);
    expect(down.retryAfter).toBe('5');
    expect(down.ms).toBeLessThan(3500);
    expect((await fetch(`${receiver.url}/readyz`)).status).toBe(503);

    await broker.start();
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsWithLeaders(admin, [{ topic, partitions: 1 }]);
    await admin.disconnect();

    await until('readiness after the broker started', () => fetch(`${receiver.url}/readyz`).then((r) => r.status), (status) => status === 200);
    expect((await postBuy(receiver.url, 2)).status).toBe(202);

    await broker.kill();
    const killed = await until('503 after the broker was killed', () => postBuy(receiver.url, 3), (result) => result.status !== 202, 20_000);
    expect(killed.status).toBe(503);
    expect(killed.ms).toBeLessThan(3500);

    await broker.start();
    await until('202 after the broker restarted', () => postBuy(receiver.url, 4), (result) => result.status === 202);

    // Both acknowledged webhooks are in the topic; the refused ones may be too (senders retry
    // them, and the processor dedupes), but no 202 is missing.
    const messages = await readTopic(kafka, topic, { quietMs: 2000 });
    const keys = new Set(messages.map((message) => message.key));
    expect(keys.has('2')).toBe(true);
    expect(keys.has('4')).toBe(true);
  }, 180_000);
});
