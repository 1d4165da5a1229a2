import { eventIdOf } from '../../schemas/event-identity';
import { webhookEvent, webhookPath } from '../../schemas/webhook-event';

describe('webhookEvent', () => {
  const body = '{"trade_id":7,"status":"completed","transaction_hash":"0x7"}';

  it('carries the body as text and the event id of the identity rule', () => {
    const event = webhookEvent({ webhookType: 'buy_completion', body: Buffer.from(body), webhookId: 'msg_7', receivedAt: 1_700_000_000_000 });
    expect(event).toEqual({
      event_id: eventIdOf({ webhookType: 'buy_completion', body, webhookId: 'msg_7' }),
      webhook_type: 'buy_completion',
      received_at: 1_700_000_000_000,
      path: '/api/webhooks/buy-complete',
      signature_scheme: 'hmac-sha256',
      remote_addr: null,
      content_type: 'application/json',
      body,
    });
  });

  it('keeps the path, scheme, peer and content type the receiver saw', () => {
    const event = webhookEvent({
      webhookType: 'trade_status',
      body,
      path: '/api/v1/webhooks/trade-status',
      signatureScheme: 'standard-webhooks',
      remoteAddr: '10.0.0.9',
      contentType: 'application/json; charset=utf-8',
    });
    expect(event).toMatchObject({ path: '/api/v1/webhooks/trade-status', signature_scheme: 'standard-webhooks', remote_addr: '10.0.0.9', content_type: 'application/json; charset=utf-8' });
  });

  it('names a Relworx callback by its own scheme unless told otherwise', () => {
    const relworx = JSON.stringify({ status: 'success', customer_reference: 'T-1', internal_reference: 'R-1' });
    expect(webhookEvent({ webhookType: 'relworx_payment', body: relworx }).signature_scheme).toBe('relworx');
  });
});

describe('webhookPath', () => {
  it.each([
    ['buy_completion', '/api/webhooks/buy-complete'],
    ['sell_completion', '/api/webhooks/sell-complete'],
    ['trade_status', '/api/webhooks/trade-status'],
    ['relworx_payment', '/api/webhooks/relworx'],
  ] as const)('%s is served at %s', (type, path) => {
    expect(webhookPath(type)).toBe(path);
  });
});
