import { OPERATIONS_PATHS, WEBHOOK_ROUTES } from '../../receiver/routes';

describe('receiver routes', () => {
  it.each([
    ['/api/webhooks/buy-complete', 'buy_completion'],
    ['/api/webhooks/sell-complete', 'sell_completion'],
    ['/api/webhooks/trade-status', 'trade_status'],
    ['/api/webhooks/relworx', 'relworx_payment'],
    ['/api/v1/webhooks/buy-complete', 'buy_completion'],
    ['/api/v1/webhooks/sell-complete', 'sell_completion'],
    ['/api/v1/webhooks/trade-status', 'trade_status'],
    ['/api/v1/webhooks/relworx', 'relworx_payment'],
  ])('serves %s as the %s webhook', (path, type) => {
    expect(WEBHOOK_ROUTES.get(path)?.type).toBe(type);
  });

  it('serves those eight webhook paths and no other', () => {
    expect(WEBHOOK_ROUTES.size).toBe(8);
  });

  it.each([
    ['the type instead of the name', '/api/webhooks/buy_completion'],
    ['a trailing slash', '/api/webhooks/buy-complete/'],
    ['another API version', '/api/v2/webhooks/buy-complete'],
    ['the prefix alone', '/api/webhooks/'],
    ['a path without /api', '/webhooks/buy-complete'],
    ['another case', '/api/webhooks/Buy-Complete'],
  ])('serves no webhook at %s', (_name, path) => {
    expect(WEBHOOK_ROUTES.has(path)).toBe(false);
  });

  it('serves health, readiness and metrics apart from the webhooks', () => {
    expect([...OPERATIONS_PATHS]).toEqual(['/healthz', '/readyz', '/metrics']);
    expect(OPERATIONS_PATHS.filter((path) => WEBHOOK_ROUTES.has(path))).toEqual([]);
  });
});
