import { Agent, request as httpRequest } from 'node:http';
import { eventIdOf } from '../../schemas/event-identity';
import { signPayload } from '../../schemas/signatures';
import { webhookPath } from '../../schemas/webhook-event';
import { BENCH_SECRETS } from './bench-env';

export interface SignedWebhook {
  body: string;
  eventId: string;
  signature: string;
}

/** The buy completion of trade `tradeId`, signed as the exchange's sender signs it. */
export function signedBuyCompletion(tradeId: number): SignedWebhook {
  const body = JSON.stringify({ trade_id: tradeId, status: 'completed', crypto_amount: 0.001, transaction_hash: `0x${tradeId.toString(16)}` });
  return { body, eventId: eventIdOf({ webhookType: 'buy_completion', body }), signature: signPayload(body, BENCH_SECRETS.BUY_WEBHOOK_SECRET) };
}

function post(agent: Agent, port: number, webhook: SignedWebhook): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: webhookPath('buy_completion'),
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(webhook.body), 'x-buy-webhook-signature': webhook.signature },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(webhook.body);
  });
}

/**
 * Posts a webhook and retries a 5xx or a connection error (a keep-alive socket the server
 * closed as it was reused) at once, up to three times, as a sender would. Status 0: no answer.
 */
export async function sendAsSendersDo(agent: Agent, port: number, webhook: SignedWebhook): Promise<number> {
  let status = 0;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    status = await post(agent, port, webhook).catch(() => 0);
    if (status !== 0 && status < 500) return status;
  }
  return status;
}
