import { ConfigError, readReceiverConfig } from '../../receiver/config';
import { TEST_SECRETS } from '../support/receiver';

describe('receiver configuration', () => {
  it('names every missing secret variable in one error', () => {
    let error: unknown;
    try {
      readReceiverConfig({ BUY_WEBHOOK_SECRET: TEST_SECRETS.BUY_WEBHOOK_SECRET });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'SELL_WEBHOOK_SECRET is required (the sell completion webhook secret)',
      'TRADE_WEBHOOK_SECRET is required (the trade status webhook secret)',
      'RELWORX_WEBHOOK_SECRET is required (the relworx payment webhook secret)',
    ]);
  });

  it('reports bad numbers together with missing secrets', () => {
    expect(() => readReceiverConfig({ PORT: 'eighty', MAX_BODY_BYTES: '-1' })).toThrow(/BUY_WEBHOOK_SECRET is required[\s\S]*PORT must be a whole number[\s\S]*MAX_BODY_BYTES must be/);
  });

  it('warns about secrets shorter than 32 bytes without refusing them', () => {
    const config = readReceiverConfig({ ...TEST_SECRETS, SELL_WEBHOOK_SECRET: 'short' });
    expect(config.warnings).toEqual(['SELL_WEBHOOK_SECRET holds a secret shorter than 32 bytes']);
  });

  it('splits comma-separated secrets for rotation and freezes the result', () => {
    const config = readReceiverConfig({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: `${TEST_SECRETS.BUY_WEBHOOK_SECRET}, next-buy-secret-0123456789abcdef0123` });
    expect(config.secrets.buy_completion).toEqual([TEST_SECRETS.BUY_WEBHOOK_SECRET, 'next-buy-secret-0123456789abcdef0123']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.port).toBe(8000);
    expect(config.maxBodyBytes).toBe(65536);
  });
});
