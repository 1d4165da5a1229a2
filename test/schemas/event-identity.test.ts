import { createHash } from 'node:crypto';
import { eventIdOf } from '../../schemas/event-identity';

// The one place that recomputes event ids by hand; every other test, benchmark and script
// imports eventIdOf.
const sha256Hex = (text: string) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

describe('event identity', () => {
  const body = '{"trade_id":7,"status":"failed"}';

  it('is the type and the webhook-id for a Standard Webhooks request', () => {
    expect(eventIdOf({ webhookType: 'trade_status', webhookId: 'msg_2K4', body })).toBe('trade_status:msg_2K4');
  });

  it('gives two types sending the same webhook-id two ids', () => {
    const status = eventIdOf({ webhookType: 'trade_status', webhookId: 'msg_1', body });
    const buy = eventIdOf({ webhookType: 'buy_completion', webhookId: 'msg_1', body });
    expect([status, buy]).toEqual(['trade_status:msg_1', 'buy_completion:msg_1']);
  });

  it('keeps a webhook-id that itself holds colons whole after the type', () => {
    expect(eventIdOf({ webhookType: 'buy_completion', webhookId: 'sell_completion:x', body })).toBe('buy_completion:sell_completion:x');
  });

  it('is the hex sha256 of the type followed by the raw body otherwise', () => {
    expect(eventIdOf({ webhookType: 'buy_completion', body })).toBe(sha256Hex(`buy_completion${body}`));
    expect(eventIdOf({ webhookType: 'sell_completion', body: Buffer.from(body) })).toBe(sha256Hex(`sell_completion${body}`));
  });

  it('hashes the exact bytes, so a body serialized differently is another event', () => {
    const spaced = '{"trade_id": 7, "status": "failed"}';
    expect(eventIdOf({ webhookType: 'buy_completion', body: spaced })).toBe(sha256Hex(`buy_completion${spaced}`));
    expect(eventIdOf({ webhookType: 'buy_completion', body: spaced })).not.toBe(eventIdOf({ webhookType: 'buy_completion', body }));
  });

  it('covers only the fields Relworx signs, each after a NUL, so unsigned fields do not change it', () => {
    const expected = sha256Hex('relworx_payment\0TRADE-9\0RWX-9\0success');
    const first = '{"status":"success","customer_reference":"TRADE-9","internal_reference":"RWX-9","amount":50000,"currency":"UGX"}';
    const rewritten = '{"customer_reference":"TRADE-9","internal_reference":"RWX-9","status":"success","message":"retried"}';
    expect(eventIdOf({ webhookType: 'relworx_payment', body: first })).toBe(expected);
    expect(eventIdOf({ webhookType: 'relworx_payment', body: rewritten })).toBe(expected);
    expect(eventIdOf({ webhookType: 'relworx_payment', body: 'not read', payload: { customer_reference: 'TRADE-9', internal_reference: 'RWX-9', status: 'success' } })).toBe(expected);
  });

  it('scopes a Relworx Standard Webhooks request by its webhook-id like any other type', () => {
    expect(eventIdOf({ webhookType: 'relworx_payment', webhookId: 'msg_9', body: '{}' })).toBe('relworx_payment:msg_9');
  });
});
