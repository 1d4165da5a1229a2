import { attemptRank, effectOf, MONEY_RECORDED_RANK, type AcceptedEvent, type Effect, type TradeRow, type TradeState } from '../../processor/trade-effects';
import { parseJsonObject, validatePayload } from '../../schemas/payload-validation';
import { webhookByType } from '../../schemas/webhook-catalog';

/** An event as the processor decodes it: the body is validated exactly as on the wire. */
function event(webhookType: string, body: string | Record<string, unknown>): AcceptedEvent {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const definition = webhookByType(webhookType)!;
  const validation = validatePayload(definition, parseJsonObject(text)!);
  if (!validation.ok) throw new Error(`invalid test body: ${JSON.stringify(validation)}`);
  const envelope = {
    event_id: `${webhookType}:test`,
    webhook_type: webhookType,
    received_at: Date.parse('2026-01-01T00:00:00Z'),
    path: '/',
    signature_scheme: 'hmac-sha256',
    remote_addr: null,
    content_type: 'application/json',
    body: text,
  };
  return { ok: true, envelope, definition, payload: validation.payload, source: { topic: 't', partition: 0, offset: '0' } };
}

/** A locked trade as applyChunk hands it to effectOf; `payments`: its recorded mobile-money attempts. */
function trade(row: Partial<TradeRow> = {}, payments: Record<string, string> = {}): TradeState {
  return {
    row: {
      id: '7',
      reference: 'TRADE-7',
      user_id: '70',
      trade_type: 'buy',
      status: 'processing',
      crypto_amount: '0.001000000000000000',
      crypto_currency: 'BTC',
      fiat_amount: '50000.000000000000000000',
      fiat_currency: 'UGX',
      ...row,
    },
    changed: false,
    patches: [],
    completedAt: null,
    failedAt: null,
    payments: new Map(Object.entries(payments)),
  };
}

const relworx = (fields: Record<string, unknown>) =>
  event('relworx_payment', { customer_reference: 'TRADE-7', internal_reference: 'RWX-2', status: 'success', amount: 50000, currency: 'UGX', ...fields });

/** The outcome, code and detail of an effect, and for a recorded payment its status. */
const summary = (effect: Effect) => ({
  outcome: effect.outcome,
  reason: effect.outcome === 'applied' ? undefined : effect.reason,
  detail: effect.outcome === 'applied' ? undefined : effect.detail,
  recorded: effect.transaction ? `${effect.transaction.kind} ${effect.transaction.provider_reference ?? ''} ${effect.transaction.status}`.replace('  ', ' ') : undefined,
});

describe('effectOf: checks before any change', () => {
  it.each([
    ['a trade that does not exist is trade_not_found', event('buy_completion', { trade_id: 404, status: 'failed' }), undefined, 'trade_not_found', 'no trade 404'],
    ['a buy completion on a sell trade is type_mismatch', event('buy_completion', { trade_id: 7, status: 'failed' }), trade({ trade_type: 'sell' }), 'type_mismatch', 'buy_completion webhook for sell trade 7'],
    ['a Relworx payment on a sell trade is type_mismatch', relworx({}), trade({ trade_type: 'sell' }), 'type_mismatch', 'relworx_payment webhook for sell trade 7'],
    [
      'a buy completion reporting another crypto amount than agreed is amount_mismatch',
      event('buy_completion', { trade_id: 7, status: 'completed', transaction_hash: '0x1', crypto_amount: 0.002 }),
      trade(),
      'amount_mismatch',
      'buy_completion reports crypto_amount 0.002; trade 7 agreed 0.001',
    ],
    [
      'a sell completion reporting another fiat amount than agreed is amount_mismatch',
      event('sell_completion', { trade_id: 7, status: 'completed', payment_reference: 'P', fiat_amount: 99.99 }),
      trade({ trade_type: 'sell', fiat_amount: '100.000000000000000000' }),
      'amount_mismatch',
      'sell_completion reports fiat_amount 99.99; trade 7 agreed 100',
    ],
    ['a Relworx success without an amount is amount_mismatch', relworx({ amount: null }), trade(), 'amount_mismatch', 'Relworx success for trade 7 carries no amount'],
    ['a Relworx success without a currency is amount_mismatch', relworx({ currency: undefined }), trade(), 'amount_mismatch', 'Relworx success for trade 7 carries no currency'],
    ['a Relworx success for another amount is amount_mismatch', relworx({ amount: 49999 }), trade(), 'amount_mismatch', 'Relworx amount 49999 differs from trade amount 50000'],
    ['a Relworx success in another currency is amount_mismatch', relworx({ currency: 'KES' }), trade(), 'amount_mismatch', 'Relworx currency KES differs from trade currency UGX'],
    [
      'a Relworx success on a trade with no fiat amount to check is amount_mismatch',
      relworx({}),
      trade({ fiat_amount: null }),
      'amount_mismatch',
      'trade 7 has no fiat amount and currency to check the Relworx payment against',
    ],
  ])('%s', (_name, input, state, reason, detail) => {
    const before = state && structuredClone(state.row);
    const effect = effectOf(input, state);
    expect(effect).toEqual(expect.objectContaining({ outcome: 'rejected', reason, detail }));
    // A Relworx success is money Relworx signed for: it is recorded, as unverified, with what it claimed.
    const claimed = input.envelope.webhook_type === 'relworx_payment' && state ? 'mobile_money RWX-2 unverified' : undefined;
    expect(summary(effect).recorded).toBe(claimed);
    if (claimed) expect([effect.transaction?.amount, effect.transaction?.currency]).toEqual([input.payload.amount, input.payload.currency]);
    if (state) expect([state.row, state.changed]).toEqual([before, false]);
  });

  it('compares currencies as ISO codes: case and surrounding spaces do not make a mismatch', () => {
    const effect = effectOf(relworx({ currency: ' ugx ' }), trade({ status: 'pending' }));
    expect(summary(effect)).toEqual(expect.objectContaining({ outcome: 'applied', recorded: 'mobile_money RWX-2 completed' }));
    expect(effect.transaction?.currency).toBe('UGX');
  });

  it('accepts a reported amount equal to the agreed one however it is written', () => {
    const effect = effectOf(event('buy_completion', '{"trade_id":7,"status":"completed","transaction_hash":"0x1","crypto_amount":0.00100}'), trade());
    expect(effect).toEqual(expect.objectContaining({ outcome: 'applied', status: 'completed' }));
  });

  it('records the reported amount on a trade that has none agreed', () => {
    const state = trade({ crypto_amount: null });
    const effect = effectOf(event('buy_completion', '{"trade_id":7,"status":"completed","transaction_hash":"0x1","crypto_amount":0.123456789012345678}'), state);
    expect(state.row.crypto_amount).toBe('0.123456789012345678');
    expect(effect.outcome === 'applied' && effect.notification.crypto_amount).toBe('0.123456789012345678');
  });
});

describe('effectOf: transitions', () => {
  it('records a transition a finished trade cannot take as stale transition_not_allowed', () => {
    const state = trade({ status: 'completed' });
    expect(summary(effectOf(event('trade_status', { trade_id: 7, status: 'processing' }), state))).toEqual({
      outcome: 'stale',
      reason: 'transition_not_allowed',
      detail: 'trade is completed; processing not applied',
      recorded: undefined,
    });
    expect(state.changed).toBe(false);
  });

  it('carries bigint ids into the notification as exact decimal text', () => {
    const state = trade({ id: '9223372036854775807', user_id: '1234567890123456789' });
    const effect = effectOf(event('trade_status', '{"trade_id":9223372036854775807,"status":"completed"}'), state);
    expect(effect.outcome === 'applied' && [effect.notification.trade_id, effect.notification.user_id]).toEqual(['9223372036854775807', '1234567890123456789']);
  });

  it('queues the webhook metadata as sent, __proto__ included, before the processor own keys', () => {
    const state = trade();
    effectOf(event('trade_status', '{"trade_id":7,"status":"processing","metadata":{"__proto__":{"x":1},"fee":0.10}}'), state);
    expect(state.patches[0]).toBe('{"__proto__":{"x":1},"fee":0.10}');
    expect(JSON.parse(state.patches[1]!)).toEqual(expect.objectContaining({ last_webhook: expect.objectContaining({ webhook_type: 'trade_status' }) }));
  });
});

describe('effectOf: Relworx money rules', () => {
  it.each([
    ['a success on an open trade moves it to processing and records the payment', trade({ status: 'pending' }), relworx({}), { outcome: 'applied', recorded: 'mobile_money RWX-2 completed', status: 'processing' }],
    [
      'a success after the trade failed is recorded and rejected payment_after_terminal',
      trade({ status: 'failed' }, { 'RWX-1': 'failed' }),
      relworx({}),
      { outcome: 'rejected', reason: 'payment_after_terminal', detail: 'money was received for trade 7 which is failed: refund or reopen', recorded: 'mobile_money RWX-2 unapplied', status: 'failed' },
    ],
    [
      'a success after the trade was cancelled is recorded and rejected payment_after_terminal',
      trade({ status: 'cancelled' }),
      relworx({}),
      { outcome: 'rejected', reason: 'payment_after_terminal', detail: 'money was received for trade 7 which is cancelled: refund or reopen', recorded: 'mobile_money RWX-2 unapplied', status: 'cancelled' },
    ],
    [
      'a success on a trade completed without a payment is recorded and rejected payment_after_terminal',
      trade({ status: 'completed' }),
      relworx({}),
      { outcome: 'rejected', reason: 'payment_after_terminal', detail: 'money was received for trade 7 which is completed: reconcile it with the trade', recorded: 'mobile_money RWX-2 unapplied', status: 'completed' },
    ],
    [
      'a second success with another reference is recorded and rejected duplicate_payment',
      trade({ status: 'processing' }, { 'RWX-1': 'completed' }),
      relworx({}),
      {
        outcome: 'rejected',
        reason: 'duplicate_payment',
        detail: 'trade 7 was already paid by internal reference RWX-1; RWX-2 is a second payment: refund it',
        recorded: 'mobile_money RWX-2 unapplied',
        status: 'processing',
      },
    ],
    [
      'the same attempt reported again is stale payment_already_received, whatever it claims, and records nothing',
      trade({ status: 'pending' }, { 'RWX-2': 'completed' }),
      relworx({ amount: 1 }),
      { outcome: 'stale', reason: 'payment_already_received', detail: 'internal reference RWX-2 is already recorded as the payment of trade 7; this report of it changes nothing', status: 'pending' },
    ],
    [
      'a success for an attempt an operator settled (a status the processor does not write) is stale and never the payment',
      trade({ status: 'pending' }, { 'RWX-2': 'refunded' }),
      relworx({}),
      { outcome: 'stale', reason: 'payment_already_received', detail: 'internal reference RWX-2 of trade 7 is recorded as refunded; this report of it changes nothing', status: 'pending' },
    ],
    [
      'an attempt an operator settled does not make another payment a second one',
      trade({ status: 'pending' }, { 'RWX-1': 'refunded' }),
      relworx({}),
      { outcome: 'applied', recorded: 'mobile_money RWX-2 completed', status: 'processing' },
    ],
    [
      'the same attempt reported again after the trade completed is not a payment after a terminal state',
      trade({ status: 'completed' }, { 'RWX-2': 'completed' }),
      relworx({}),
      { outcome: 'stale', reason: 'payment_already_received', detail: 'internal reference RWX-2 is already recorded as the payment of trade 7; this report of it changes nothing', status: 'completed' },
    ],
    [
      'money the trade did not take does not make a later payment a second one',
      trade({ status: 'pending' }, { 'RWX-1': 'unapplied' }),
      relworx({}),
      { outcome: 'applied', recorded: 'mobile_money RWX-2 completed', status: 'processing' },
    ],
    [
      'money the trade did not take does not keep a failure from failing it',
      trade({ status: 'pending' }, { 'RWX-1': 'unapplied' }),
      relworx({ status: 'failed' }),
      { outcome: 'applied', recorded: 'mobile_money RWX-2 failed', status: 'failed' },
    ],
    [
      'a success under another reference than an unverified one is recorded and rejected duplicate_payment',
      trade({ status: 'pending' }, { 'RWX-1': 'unverified' }),
      relworx({}),
      {
        outcome: 'rejected',
        reason: 'duplicate_payment',
        detail: 'trade 7 has a payment under internal reference RWX-1 whose amount could not be verified; RWX-2 is a second payment: refund one of them',
        recorded: 'mobile_money RWX-2 unapplied',
        status: 'pending',
      },
    ],
    [
      'a matching success for an attempt recorded unverified makes it the payment',
      trade({ status: 'pending' }, { 'RWX-2': 'unverified' }),
      relworx({}),
      { outcome: 'applied', recorded: 'mobile_money RWX-2 completed', status: 'processing' },
    ],
    [
      'a failure after a recorded success is recorded and stale payment_already_received; the trade is not failed',
      trade({ status: 'processing' }, { 'RWX-1': 'completed' }),
      relworx({ status: 'failed', amount: undefined }),
      {
        outcome: 'stale',
        reason: 'payment_already_received',
        detail: 'trade 7 was paid by internal reference RWX-1; the failed attempt RWX-2 does not fail it',
        recorded: 'mobile_money RWX-2 failed',
        status: 'processing',
      },
    ],
    [
      'a failure reported for the very attempt that paid does not fail the trade either',
      trade({ status: 'processing' }, { 'RWX-2': 'completed' }),
      relworx({ status: 'failed' }),
      expect.objectContaining({ outcome: 'stale', reason: 'payment_already_received', status: 'processing' }),
    ],
    ['a failure with no recorded success fails the trade', trade({ status: 'pending' }, { 'RWX-1': 'failed' }), relworx({ status: 'failed' }), { outcome: 'applied', recorded: 'mobile_money RWX-2 failed', status: 'failed' }],
    [
      'a failure on a finished trade is recorded and stale transition_not_allowed',
      trade({ status: 'completed' }),
      relworx({ status: 'failed' }),
      { outcome: 'stale', reason: 'transition_not_allowed', detail: 'trade is completed; failed not applied', recorded: 'mobile_money RWX-2 failed', status: 'completed' },
    ],
  ])('%s', (_name, state, input, expected) => {
    const effect = effectOf(input, state);
    const { outcome, reason, detail, recorded } = summary(effect);
    expect(JSON.parse(JSON.stringify({ outcome, reason, detail, recorded, status: state.row.status }))).toEqual(expected);
  });

  it('remembers each recorded attempt, so later events of the chunk see the payment and the money the trade did not take', () => {
    const state = trade({ status: 'pending' });
    effectOf(relworx({ internal_reference: 'RWX-9' }), state);
    effectOf(relworx({ internal_reference: 'RWX-11' }), state);
    expect(Object.fromEntries(state.payments)).toEqual({ 'RWX-9': 'completed', 'RWX-11': 'unapplied' });
    expect(summary(effectOf(relworx({ internal_reference: 'RWX-10', status: 'failed' }), state))).toEqual(
      expect.objectContaining({ outcome: 'stale', reason: 'payment_already_received' }),
    );
  });
});

describe('attemptRank: the order a mobile-money row moves through', () => {
  it.each([
    ['no recorded attempt', undefined, -1],
    ['failed', 'failed', 0],
    ['unverified', 'unverified', 1],
    ['unapplied', 'unapplied', 2],
    ['completed', 'completed', 3],
    ["an operator's own status", 'refunded', 4],
    ['an empty status (not one the processor writes)', '', 4],
  ])('ranks %s at %d', (_name, status, rank) => {
    expect(attemptRank(status)).toBe(rank);
  });

  it('takes unapplied as the first rank that records money', () => {
    expect(MONEY_RECORDED_RANK).toBe(2);
  });
});
