import { deliveryOf, eventIdOf, rolesInChunk, tradeIdOf, tradeReferenceOf, typeOf, type Identity, type Role } from '../../processor/claim-events';
import type { DecodedEvent } from '../../processor/decode-event';
import { parseJsonObject, validatePayload } from '../../schemas/payload-validation';
import { webhookByType, type WebhookType } from '../../schemas/webhook-catalog';
import { webhookEvent } from '../../schemas/webhook-event';

// The pure half of claiming a chunk's events: which delivery is which, judged without the
// database. The SQL half (claimEvents, storedIdentities) is applied in apply-chunk.test.ts and
// event-id-reuse.test.ts.

const RECEIVED_AT = Date.parse('2026-01-01T00:00:00Z');
const ID = 'shared-event-id';

/** An event as the consumer decodes it, under the event id `eventId`. */
function accepted(webhookType: WebhookType, body: Record<string, unknown>, eventId = ID, offset = '0'): DecodedEvent {
  const text = JSON.stringify(body);
  const definition = webhookByType(webhookType)!;
  const validation = validatePayload(definition, parseJsonObject(text)!);
  if (!validation.ok) throw new Error(`invalid test body: ${JSON.stringify(validation)}`);
  const envelope = { ...webhookEvent({ webhookType, body: text, receivedAt: RECEIVED_AT }), event_id: eventId };
  return { ok: true, envelope, definition, payload: validation.payload, source: { topic: 'events', partition: 2, offset } };
}

/** A delivery whose body could not be read: its trade is unknown. */
function unreadable(webhookType: string, eventId = ID): DecodedEvent {
  return { ok: false, reason: 'schema_invalid', detail: 'body is not a JSON object', eventId, webhookType, body: 'not json', source: { topic: 'events', partition: 2, offset: '9' } };
}

const buy = (tradeId: number, status = 'completed', eventId = ID) => accepted('buy_completion', { trade_id: tradeId, status, transaction_hash: '0x1' }, eventId);
const payment = (internalReference: string) =>
  accepted('relworx_payment', { status: 'success', customer_reference: 'TRADE-7', internal_reference: internalReference, amount: 50000, currency: 'UGX' });

/** A stored row's identity, as storedIdentities reads it (facts: the status, and for Relworx the attempt). */
const stored = (identity: Identity): Map<string, Identity> => new Map([[ID, identity]]);

const PRIMARY: Role = { kind: 'primary' };
const DUPLICATE: Role = { kind: 'duplicate' };
const collision = (detail: string): Role => ({ kind: 'collision', detail });

describe('rolesInChunk', () => {
  const cases: Array<[string, DecodedEvent[], Map<string, Identity>, Role[], Record<string, number>]> = [
    ['events under different ids are each the first delivery of their id', [buy(7, 'completed', 'a'), buy(7, 'completed', 'b')], new Map(), [PRIMARY, PRIMARY], { a: 1, b: 1 }],
    ['the same event twice in a chunk is the event and a duplicate, counted as two deliveries', [buy(7), buy(7)], new Map(), [PRIMARY, DUPLICATE], { [ID]: 2 }],
    [
      'an event already stored is the first delivery of the chunk: the stored row makes it a duplicate later',
      [buy(7)],
      stored({ webhook_type: 'buy_completion', trade_id: '7', trade_reference: null, facts: '["completed"]' }),
      [PRIMARY],
      { [ID]: 1 },
    ],
    [
      'an id stored for another trade is a collision naming that trade',
      [buy(7)],
      stored({ webhook_type: 'buy_completion', trade_id: '8', trade_reference: null, facts: '["completed"]' }),
      [collision(`event id ${ID} is already taken by a buy_completion event of trade 8`)],
      {},
    ],
    [
      'an id stored for another webhook type is a collision naming that type',
      [buy(7)],
      stored({ webhook_type: 'trade_status', trade_id: '7', trade_reference: null, facts: '["completed"]' }),
      [collision(`event id ${ID} is already taken by a trade_status event of trade 7`)],
      {},
    ],
    [
      'an id stored for the same trade with another status is a collision that says what the stored event said',
      [buy(7, 'failed')],
      stored({ webhook_type: 'buy_completion', trade_id: '7', trade_reference: null, facts: '["completed"]' }),
      [collision(`event id ${ID} is already taken by a buy_completion event of trade 7 with other content (["completed"])`)],
      {},
    ],
    [
      'an id stored with an unreadable body is judged by its type alone: the same type is the same event',
      [buy(7)],
      stored({ webhook_type: 'buy_completion', trade_id: null, trade_reference: null, facts: null }),
      [PRIMARY],
      { [ID]: 1 },
    ],
    [
      'an id stored with facts that could not be read is the same event for the same trade',
      [buy(7)],
      stored({ webhook_type: 'buy_completion', trade_id: '7', trade_reference: null, facts: null }),
      [PRIMARY],
      { [ID]: 1 },
    ],
    [
      'the same id for another webhook type later in the chunk is a collision with the first',
      [buy(7), accepted('trade_status', { trade_id: 7, status: 'completed' })],
      new Map(),
      [PRIMARY, collision(`event id ${ID} is already taken by a buy_completion event of trade 7`)],
      { [ID]: 1 },
    ],
    [
      'after an unreadable delivery, the first delivery that names a trade owns the id, and one naming another trade collides',
      [unreadable('buy_completion'), buy(7), buy(8)],
      new Map(),
      [PRIMARY, DUPLICATE, collision(`event id ${ID} is already taken by a buy_completion event of trade 7`)],
      { [ID]: 2 },
    ],
    [
      'an unreadable delivery of another type than the id holds is a collision',
      [buy(7), unreadable('sell_completion')],
      new Map(),
      [PRIMARY, collision(`event id ${ID} is already taken by a buy_completion event of trade 7`)],
      { [ID]: 1 },
    ],
    [
      'a Relworx id reused for another payment attempt of the same trade is a collision naming the first attempt',
      [payment('RWX-1'), payment('RWX-2')],
      new Map(),
      [PRIMARY, collision(`event id ${ID} is already taken by a relworx_payment event of trade TRADE-7 with other content (["success","RWX-1"])`)],
      { [ID]: 1 },
    ],
    [
      'a Relworx attempt reported again under its id is a duplicate',
      [payment('RWX-1'), payment('RWX-1')],
      new Map(),
      [PRIMARY, DUPLICATE],
      { [ID]: 2 },
    ],
  ];

  it.each(cases)('%s', (_name, events, storedRows, roles, deliveries) => {
    const result = rolesInChunk(events, storedRows);
    expect(result.roles).toEqual(roles);
    expect(Object.fromEntries(result.deliveries)).toEqual(deliveries);
  });
});

describe('what an event is claimed under', () => {
  it.each([
    [
      'a completion names its trade by id',
      buy(7, 'completed', 'e1'),
      { id: 'e1', type: 'buy_completion', tradeId: '7', reference: null, delivery: { topic: 'events', partition: 2, offset: '0', receivedAt: RECEIVED_AT } },
    ],
    [
      'a Relworx callback names its trade by its customer reference',
      payment('RWX-1'),
      { id: ID, type: 'relworx_payment', tradeId: null, reference: 'TRADE-7', delivery: { topic: 'events', partition: 2, offset: '0', receivedAt: RECEIVED_AT } },
    ],
    [
      'an unreadable delivery names no trade and has no receive time',
      unreadable('buy_completion', 'undecodable:events:2:9'),
      { id: 'undecodable:events:2:9', type: 'buy_completion', tradeId: null, reference: null, delivery: { body: 'not json', topic: 'events', partition: 2, offset: '9', receivedAt: null } },
    ],
  ])('%s', (_name, event, expected) => {
    expect({ id: eventIdOf(event), type: typeOf(event), tradeId: tradeIdOf(event), reference: tradeReferenceOf(event) }).toEqual({
      id: expected.id,
      type: expected.type,
      tradeId: expected.tradeId,
      reference: expected.reference,
    });
    expect(deliveryOf(event)).toEqual(expect.objectContaining(expected.delivery));
  });

  it('keeps the body of the delivery exactly as it arrived', () => {
    const text = '{"trade_id": 7, "status": "completed", "transaction_hash": "0x1"}';
    const definition = webhookByType('buy_completion')!;
    const validation = validatePayload(definition, parseJsonObject(text)!);
    if (!validation.ok) throw new Error('invalid test body');
    const event: DecodedEvent = { ok: true, envelope: webhookEvent({ webhookType: 'buy_completion', body: text }), definition, payload: validation.payload, source: { topic: 't', partition: 0, offset: '1' } };
    expect(deliveryOf(event).body).toBe(text);
  });
});
