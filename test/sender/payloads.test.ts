import { buyCompletion, relworxPayment, sellCompletion, serializePayload, tradeStatus } from '../../sender/payloads';
import { parseJsonObject, validatePayload } from '../../schemas/payload-validation';
import { webhookByType } from '../../schemas/webhook-catalog';

const NOW = '2026-01-15T10:30:00.000Z';

describe('payload builders', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date(NOW) }));
  afterEach(() => jest.useRealTimers());

  const cases: Array<[string, string, () => unknown, string]> = [
    [
      'a buy completion with a string amount, every digit kept',
      'buy_completion',
      () => buyCompletion({ tradeId: 7, cryptoAmount: '0.123456789012345678', transactionHash: '0xabc', timestamp: '2024-01-15T10:30:00Z' }),
      '{"trade_id":7,"status":"completed","crypto_amount":0.123456789012345678,"transaction_hash":"0xabc","timestamp":"2024-01-15T10:30:00Z","webhook_type":"buy_completion"}',
    ],
    [
      'a failed buy completion, the fields not given left out and the timestamp now',
      'buy_completion',
      () => buyCompletion({ tradeId: 7, status: 'failed' }),
      `{"trade_id":7,"status":"failed","timestamp":"${NOW}","webhook_type":"buy_completion"}`,
    ],
    [
      'a sell completion with a number amount',
      'sell_completion',
      () => sellCompletion({ tradeId: 8, fiatAmount: 100.5, paymentReference: 'PAY-8', timestamp: '2024-01-15T10:30:00Z' }),
      '{"trade_id":8,"status":"completed","fiat_amount":100.5,"payment_reference":"PAY-8","timestamp":"2024-01-15T10:30:00Z","webhook_type":"sell_completion"}',
    ],
    [
      'a sell completion whose string amount keeps its trailing zero',
      'sell_completion',
      () => sellCompletion({ tradeId: 8, fiatAmount: '100.0', paymentReference: 'PAY-8', timestamp: '2024-01-15T10:30:00Z' }),
      '{"trade_id":8,"status":"completed","fiat_amount":100.0,"payment_reference":"PAY-8","timestamp":"2024-01-15T10:30:00Z","webhook_type":"sell_completion"}',
    ],
    [
      'a trade status with metadata',
      'trade_status',
      () => tradeStatus({ tradeId: 9, status: 'processing', metadata: { stage: 'kyc', attempt: 2 }, timestamp: '2024-01-15T10:30:00Z' }),
      '{"trade_id":9,"status":"processing","metadata":{"stage":"kyc","attempt":2},"timestamp":"2024-01-15T10:30:00Z","webhook_type":"trade_status"}',
    ],
    [
      'a Relworx payment, completed now',
      'relworx_payment',
      () => relworxPayment({ customerReference: 'TRADE-4', internalReference: 'RWX-4', amount: '50000', currency: 'UGX', msisdn: '256700000000', provider: 'MTN_UGANDA', message: 'ok' }),
      `{"status":"success","customer_reference":"TRADE-4","internal_reference":"RWX-4","msisdn":"256700000000","amount":50000,"currency":"UGX","provider":"MTN_UGANDA","message":"ok","completed_at":"${NOW}","webhook_type":"relworx_payment"}`,
    ],
    [
      'a failed Relworx payment without an amount',
      'relworx_payment',
      () => relworxPayment({ customerReference: 'TRADE-5', internalReference: 'RWX-5', status: 'failed' }),
      `{"status":"failed","customer_reference":"TRADE-5","internal_reference":"RWX-5","completed_at":"${NOW}","webhook_type":"relworx_payment"}`,
    ],
  ];

  it.each(cases)('builds %s', (_name, _type, build, expected) => {
    expect(serializePayload(build())).toBe(expected);
  });

  it.each(cases)('builds a body the receiver validates: %s', (_name, type, build) => {
    const validation = validatePayload(webhookByType(type)!, parseJsonObject(serializePayload(build()))!);
    expect(validation.ok).toBe(true);
  });

  it.each(['0', '0.5', '10', '0.000000000000000001'])('takes %p as an amount', (amount) => {
    expect(serializePayload(buyCompletion({ tradeId: 1, cryptoAmount: amount, timestamp: 't' }))).toContain(`"crypto_amount":${amount},`);
  });

  it.each(['-1', '1e5', '', '.5', '1.', ' 1', '0x10', 'NaN', '1,5'])('refuses %p as an amount, naming it', (amount) => {
    const build = () => sellCompletion({ tradeId: 1, fiatAmount: amount });
    expect(build).toThrow(RangeError);
    expect(build).toThrow(`an amount must be a non-negative decimal, got "${amount}"`);
  });
});

describe('serializePayload', () => {
  it('refuses what JSON cannot hold', () => {
    expect(() => serializePayload(undefined)).toThrow(TypeError);
  });
});
