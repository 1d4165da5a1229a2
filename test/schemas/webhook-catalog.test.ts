import { WEBHOOK_PATH_PREFIXES, WEBHOOKS, webhookByName, webhookByType } from '../../schemas/webhook-catalog';

const CATALOG = [
  { type: 'buy_completion', name: 'buy-complete', signatureHeader: 'x-buy-webhook-signature', schemaFile: 'buy-completion.avsc' },
  { type: 'sell_completion', name: 'sell-complete', signatureHeader: 'x-sell-webhook-signature', schemaFile: 'sell-completion.avsc' },
  { type: 'trade_status', name: 'trade-status', signatureHeader: 'x-trade-webhook-signature', schemaFile: 'trade-status.avsc' },
  { type: 'relworx_payment', name: 'relworx', signatureHeader: 'relworx-signature', schemaFile: 'relworx-payment.avsc' },
];

describe('webhook catalog', () => {
  it.each(CATALOG.map((definition) => [definition.type, definition] as const))('finds the %s webhook by its type and by its name', (type, definition) => {
    expect(webhookByType(type)).toEqual(definition);
    expect(webhookByName(definition.name)).toEqual(definition);
  });

  it('lists the four webhooks in that order', () => {
    expect(WEBHOOKS).toEqual(CATALOG);
  });

  it.each([
    ['a name looked up as a type', () => webhookByType('buy-complete')],
    ['a type looked up as a name', () => webhookByName('buy_completion')],
    ['an unknown type', () => webhookByType('refund')],
    ['a type in another case', () => webhookByType('BUY_COMPLETION')],
    ['an empty type', () => webhookByType('')],
    ['an object prototype key as a type', () => webhookByType('constructor')],
    ['an object prototype key as a name', () => webhookByName('__proto__')],
  ])('finds nothing for %s', (_name, lookup) => {
    expect(lookup()).toBeUndefined();
  });

  it('serves each webhook under /api/webhooks/ and the gateway’s /api/v1/webhooks/', () => {
    expect([...WEBHOOK_PATH_PREFIXES]).toEqual(['/api/webhooks/', '/api/v1/webhooks/']);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(WEBHOOKS)).toBe(true);
  });
});
