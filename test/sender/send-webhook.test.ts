import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buyCompletion, sendWebhook, signPayload } from '../../sender';
import { onCleanup } from '../support/cleanup';

const secret = 'buy-secret-for-sender-tests-0123456789';

interface Seen {
  at: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A real HTTP server that answers from a script: one [status, headers] per request. */
async function scriptedServer(script: Array<[number, Record<string, string>?]>): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push({ at: Date.now(), body, headers: request.headers });
      const [status, headers] = script[Math.min(seen.length - 1, script.length - 1)]!;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify({ status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('sendWebhook', () => {
  it('retries 503 twice and succeeds on the third attempt, doubling the delay', async () => {
    const server = await scriptedServer([[503], [503], [202]]);
    const result = await sendWebhook(server.url, 'buy-complete', buyCompletion({ tradeId: 1, transactionHash: '0x1' }), { secret, baseDelayMs: 100 });

    expect(result).toEqual({ status: 202, body: '{"status":202}', attempts: 3, ok: true });
    const gaps = [server.seen[1]!.at - server.seen[0]!.at, server.seen[2]!.at - server.seen[1]!.at];
    // 100 ms then 200 ms, each with ±20% jitter.
    expect(gaps[0]).toBeGreaterThanOrEqual(80);
    expect(gaps[0]).toBeLessThan(180);
    expect(gaps[1]).toBeGreaterThanOrEqual(160);
    expect(gaps[1]).toBeLessThan(300);
  });

  it('sends the same signed bytes on every attempt', async () => {
    const server = await scriptedServer([[500], [202]]);
    await sendWebhook(server.url, 'buy-complete', buyCompletion({ tradeId: 2, cryptoAmount: '0.123456789012345678', transactionHash: '0x2' }), { secret, baseDelayMs: 10 });

    expect(server.seen[0]!.body).toBe(server.seen[1]!.body);
    expect(server.seen[0]!.body).toContain('"crypto_amount":0.123456789012345678');
    expect(server.seen[0]!.headers['x-buy-webhook-signature']).toBe(signPayload(server.seen[0]!.body, secret));
  });

  it('does not retry a 400', async () => {
    const server = await scriptedServer([[400], [202]]);
    const result = await sendWebhook(server.url, 'buy-complete', '{}', { secret, baseDelayMs: 10 });
    expect(result).toEqual(expect.objectContaining({ status: 400, attempts: 1, ok: false }));
    expect(server.seen).toHaveLength(1);
  });

  it('honours Retry-After on 429', async () => {
    const server = await scriptedServer([[429, { 'retry-after': '1' }], [202]]);
    const result = await sendWebhook(server.url, 'buy-complete', '{}', { secret, baseDelayMs: 10 });
    expect(result.attempts).toBe(2);
    expect(server.seen[1]!.at - server.seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxAttempts and returns the last answer', async () => {
    const server = await scriptedServer([[503]]);
    const result = await sendWebhook(server.url, 'sell-complete', '{}', { secret, baseDelayMs: 5, maxAttempts: 3 });
    expect(result).toEqual(expect.objectContaining({ status: 503, attempts: 3, ok: false }));
  });

  it('retries network errors', async () => {
    const server = await scriptedServer([[202]]);
    const closed = 'http://127.0.0.1:1';
    await expect(sendWebhook(closed, 'buy-complete', '{}', { secret, baseDelayMs: 5, maxAttempts: 2 })).rejects.toThrow();
    expect((await sendWebhook(server.url, 'buy-complete', '{}', { secret })).attempts).toBe(1);
  });

  it('stops when aborted', async () => {
    const server = await scriptedServer([[503]]);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    await expect(sendWebhook(server.url, 'buy-complete', '{}', { secret, signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.seen).toHaveLength(1);
  });

  it('posts to the gateway path and with Standard Webhooks headers when asked', async () => {
    const server = await scriptedServer([[202]]);
    const result = await sendWebhook(server.url, 'trade_status', '{"trade_id":1,"status":"processing"}', { secret, gateway: true, standard: true, webhookId: 'msg_7' });
    expect(result.ok).toBe(true);
    expect(server.seen[0]!.headers).toEqual(expect.objectContaining({ 'webhook-id': 'msg_7', 'webhook-signature': expect.stringMatching(/^v1,/) }));
  });
});
