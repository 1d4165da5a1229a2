import { parseJsonObject, validatePayload } from '../../schemas/payload-validation';
import { webhookByType } from '../../schemas/webhook-catalog';

const buy = webhookByType('buy_completion')!;
const sell = webhookByType('sell_completion')!;
const status = webhookByType('trade_status')!;
const relworx = webhookByType('relworx_payment')!;

const validate = (definition: typeof buy, text: string) => validatePayload(definition, parseJsonObject(text)!);

describe('payload validation against the Avro schemas', () => {
  it('accepts a buy completion with an 18-digit fraction and keeps the amount as exact text', () => {
    const result = validate(buy, '{"trade_id":123,"status":"completed","crypto_amount":0.123456789012345678,"transaction_hash":"0xabc","timestamp":"2024-01-15T10:30:00Z","webhook_type":"buy_completion"}');
    expect(result).toEqual({
      ok: true,
      payload: {
        trade_id: '123',
        status: 'completed',
        crypto_amount: '0.123456789012345678',
        transaction_hash: '0xabc',
        timestamp: '2024-01-15T10:30:00Z',
        webhook_type: 'buy_completion',
      },
    });
  });

  it('lists every missing or mistyped field', () => {
    expect(validate(buy, '{"status":"completed","crypto_amount":"0.1"}')).toEqual({
      ok: false,
      error: 'missing_fields',
      fields: ['trade_id', 'crypto_amount', 'transaction_hash'],
    });
  });

  it('requires the transaction hash only for a completed buy', () => {
    expect(validate(buy, '{"trade_id":1,"status":"failed"}').ok).toBe(true);
    expect(validate(buy, '{"trade_id":1,"status":"completed"}')).toEqual({ ok: false, error: 'missing_fields', fields: ['transaction_hash'] });
  });

  it('requires the payment reference for a completed sell', () => {
    expect(validate(sell, '{"trade_id":1,"status":"completed","fiat_amount":100.0}')).toEqual({
      ok: false,
      error: 'missing_fields',
      fields: ['payment_reference'],
    });
  });

  it('refuses a status the type does not allow', () => {
    expect(validate(buy, '{"trade_id":1,"status":"processing"}')).toEqual({ ok: false, error: 'invalid_status' });
    expect(validate(status, '{"trade_id":1,"status":"processing"}').ok).toBe(true);
    expect(validate(relworx, '{"status":"completed","customer_reference":"R","internal_reference":"I"}')).toEqual({ ok: false, error: 'invalid_status' });
  });

  it('refuses a webhook_type of another endpoint', () => {
    expect(validate(buy, '{"trade_id":1,"status":"failed","webhook_type":"sell_completion"}')).toEqual({ ok: false, error: 'invalid_webhook_type' });
  });

  it.each([
    ['9007199254740993', '9007199254740993'],
    ['1234567890123456789', '1234567890123456789'],
    ['9223372036854775807', '9223372036854775807'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['-0', '0'],
  ])('accepts trade id %s, any a bigint column holds, as exact decimal text', (id, text) => {
    expect(validate(buy, `{"trade_id":${id},"status":"failed"}`)).toEqual({ ok: true, payload: expect.objectContaining({ trade_id: text }) });
  });

  it('refuses trade ids that are not integers or do not fit a bigint', () => {
    for (const id of ['1.5', '"1"', '1e3', '1.0', 'true', '9223372036854775808', '-9223372036854775809', '123456789012345678901234567890']) {
      expect(validate(buy, `{"trade_id":${id},"status":"failed"}`)).toEqual({ ok: false, error: 'missing_fields', fields: ['trade_id'] });
    }
  });

  it('refuses negative amounts and amounts that do not fit numeric(38,18)', () => {
    for (const amount of ['-1', '1e30', '0.0000000000000000001']) {
      expect(validate(sell, `{"trade_id":1,"status":"failed","fiat_amount":${amount}}`)).toEqual({ ok: false, error: 'missing_fields', fields: ['fiat_amount'] });
    }
  });

  it('carries trade-status metadata as JSON text with exact numbers', () => {
    const result = validate(status, '{"trade_id":1,"status":"processing","metadata":{"stage":"crypto_transfer","fee":0.123456789012345678}}');
    expect(result).toEqual({ ok: true, payload: expect.objectContaining({ metadata: '{"stage":"crypto_transfer","fee":0.123456789012345678}' }) });
  });

  it('refuses a malformed timestamp', () => {
    expect(validate(buy, '{"trade_id":1,"status":"failed","timestamp":"yesterday"}')).toEqual({ ok: false, error: 'missing_fields', fields: ['timestamp'] });
  });

  it('refuses trade-status metadata that is not an object, a number included', () => {
    for (const metadata of ['0', '1.5', '"text"', '[1]', 'true']) {
      expect(validate(status, `{"trade_id":1,"status":"processing","metadata":${metadata}}`)).toEqual({ ok: false, error: 'missing_fields', fields: ['metadata'] });
    }
  });

  it('reads a Relworx callback by its customer reference', () => {
    const result = validate(relworx, '{"status":"success","customer_reference":"TRADE-1","internal_reference":"RWX-1","amount":50000,"currency":"UGX","msisdn":"256700000000"}');
    expect(result).toEqual({ ok: true, payload: expect.objectContaining({ customer_reference: 'TRADE-1', amount: '50000', currency: 'UGX' }) });
  });
});

describe('JSON parsing of bodies', () => {
  it.each([
    ['not JSON', 'trade_id=1'],
    ['an array', '[1,2]'],
    ['a string', '"x"'],
    ['null', 'null'],
    ['a number, which the parser hands back as an object', '42'],
    ['duplicate keys with different values', '{"trade_id":1,"trade_id":2}'],
    ['nesting deeper than the stack', '['.repeat(100_000) + ']'.repeat(100_000)],
  ])('refuses %s', (_name, text) => {
    expect(parseJsonObject(Buffer.from(text))).toBeUndefined();
  });

  it('refuses invalid UTF-8', () => {
    expect(parseJsonObject(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).toBeUndefined();
  });

  it('reads what Python json.dumps writes', () => {
    expect(parseJsonObject(Buffer.from('{"trade_id": 124, "fiat_amount": 100.0, "name": "caf\\u00e9"}'))).toEqual(
      expect.objectContaining({ name: 'café' }),
    );
  });
});
