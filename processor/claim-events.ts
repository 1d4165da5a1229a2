import type { Knex } from 'knex';
import type { DecodedEvent } from './decode-event';
import { arrays } from './sql-arrays';

export const eventIdOf = (event: DecodedEvent): string => (event.ok ? event.envelope.event_id : event.eventId);
export const typeOf = (event: DecodedEvent): string => (event.ok ? event.envelope.webhook_type : event.webhookType);
export const isRelworx = (event: DecodedEvent): boolean => event.ok && event.envelope.webhook_type === 'relworx_payment';
/** The trade id (decimal text) of an event that names its trade by id. */
export const tradeIdOf = (event: DecodedEvent): string | null => (event.ok && !isRelworx(event) ? event.payload.trade_id! : null);
/** The trade reference of a Relworx callback (its customer reference). */
export const tradeReferenceOf = (event: DecodedEvent): string | null => (event.ok && isRelworx(event) ? event.payload.customer_reference! : null);

/** What the audit row keeps of the delivery it describes. */
export const deliveryOf = (event: DecodedEvent) => ({
  body: event.ok ? event.envelope.body : event.body,
  topic: event.source.topic,
  partition: event.source.partition,
  offset: event.source.offset,
  receivedAt: event.ok ? event.envelope.received_at : (event.envelope?.received_at ?? null),
});

export interface Identity {
  webhook_type: string;
  trade_id: string | null;
  trade_reference: string | null;
  /**
   * What the event says happened — its status, and for Relworx the payment attempt — or null
   * when its body cannot be read. An id derived from the body always agrees on it; a sender's
   * `webhook-id` reused for another payment or status of the same trade does not.
   */
  facts?: string | null;
}

/** The facts of a body: `status`, and for Relworx the `internal_reference` of its payment attempt. */
function factsOf(webhookType: string, body: Record<string, unknown> | undefined): string | null {
  if (!body || typeof body.status !== 'string') return null;
  return webhookType === 'relworx_payment' ? JSON.stringify([body.status, body.internal_reference ?? null]) : JSON.stringify([body.status]);
}

/** A stored body, read only for its facts: it was validated when it was first processed, or it is unreadable (null facts). */
function storedFacts(webhookType: string, body: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    return factsOf(webhookType, parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined);
  } catch {
    return null;
  }
}

const identityOf = (event: DecodedEvent): Identity => ({
  webhook_type: typeOf(event),
  trade_id: tradeIdOf(event),
  trade_reference: tradeReferenceOf(event),
  facts: event.ok ? factsOf(event.envelope.webhook_type, event.payload) : null,
});

/**
 * Two deliveries under one id are the same event when they have the same type, the same trade
 * and the same facts. A delivery whose trade is unknown (its body could not be read) is judged
 * by its type: it may be the replay of the same event once its cause was fixed.
 */
const unknownTrade = (identity: Identity): boolean => identity.trade_id === null && identity.trade_reference === null;

const sameTrade = (a: Identity, b: Identity): boolean => (b.trade_reference !== null ? a.trade_reference === b.trade_reference : a.trade_id === b.trade_id);

function sameEvent(a: Identity, b: Identity): boolean {
  if (a.webhook_type !== b.webhook_type) return false;
  if (unknownTrade(a) || unknownTrade(b)) return true;
  return sameTrade(a, b) && (a.facts == null || b.facts == null || a.facts === b.facts);
}

/** Says what holds the id; when it is the same type and trade, what that event said, since that is what differs. */
function collisionDetail(eventId: string, taken: Identity, incoming?: Identity): string {
  const holder = `event id ${eventId} is already taken by a ${taken.webhook_type} event of trade ${taken.trade_id ?? taken.trade_reference ?? 'unknown'}`;
  const sameTypeAndTrade = incoming !== undefined && incoming.webhook_type === taken.webhook_type && sameTrade(taken, incoming);
  return sameTypeAndTrade && taken.facts ? `${holder} with other content (${taken.facts})` : holder;
}

/** What each event of a chunk is: the first delivery of its id, a repeat of it, or another event under the same id. */
export type Role = { kind: 'primary' } | { kind: 'duplicate' } | { kind: 'collision'; detail: string };

/**
 * The identities of the events already stored under the chunk's ids, locked (in id order, one
 * order for every transaction) so that they stay what the roles are judged against until commit.
 */
export async function storedIdentities(trx: Knex.Transaction, events: readonly DecodedEvent[]): Promise<Map<string, Identity>> {
  const { rows } = await trx.raw<{ rows: Array<Identity & { event_id: string; body: string }> }>(
    'select event_id, webhook_type, trade_id, trade_reference, body from webhook_events where event_id = any(?::text[]) order by event_id for update',
    arrays([...new Set(events.map(eventIdOf))]),
  );
  return new Map(rows.map(({ event_id, body, ...identity }) => [event_id, { ...identity, facts: storedFacts(identity.webhook_type, body) }]));
}

/**
 * A chunk may carry the same event twice (a sender's retry): the first is the event, the rest
 * duplicates, counted as deliveries — unless one is another event under the same id. What an id
 * belongs to is decided by its stored row when there is one, whatever the chunk holds before
 * the event's own deliveries; only a new id belongs to the first of the chunk's events.
 */
export function rolesInChunk(events: readonly DecodedEvent[], stored: ReadonlyMap<string, Identity>): { roles: Role[]; deliveries: Map<string, number> } {
  const deliveries = new Map<string, number>();
  const owner = new Map<string, Identity>(stored);
  const roles = events.map((event): Role => {
    const id = eventIdOf(event);
    const identity = identityOf(event);
    const taken = owner.get(id);
    if (!taken) owner.set(id, identity);
    else if (!sameEvent(taken, identity)) return { kind: 'collision', detail: collisionDetail(id, taken, identity) };
    // The first delivery that names a trade tells whose the id is: a later one naming another trade collides.
    else if (unknownTrade(taken) && !unknownTrade(identity)) owner.set(id, identity);
    const seen = deliveries.get(id);
    deliveries.set(id, (seen ?? 0) + 1);
    return seen === undefined ? { kind: 'primary' } : { kind: 'duplicate' };
  });
  return { roles, deliveries };
}

export interface Claims {
  /** The claimed events: whether their row is new, and the outcome, reason and detail it had before. */
  readonly byId: ReadonlyMap<string, { inserted: boolean; previous: string; reason: string | null; detail: string | null }>;
  /** Events whose id is already taken by another type's or another trade's event: the detail says by what. */
  readonly collisions: ReadonlyMap<string, string>;
}

/**
 * The claim, first in a chunk's transaction, for the whole chunk in one statement: the primary
 * key is the dedupe. New events insert their row; a repeat of the same event adds to the
 * existing row's delivery count (taking its row lock, so a concurrent twin waits for the first
 * to commit) and says what happened to it before. A row of another type or trade under the
 * same id is left exactly as it is: the new event is an id collision, not a duplicate. Rows are
 * written, and so locked, in event id order, one order for every transaction: two transactions
 * that share new ids (the same event in two partitions' chunks) wait for each other rather than
 * deadlock.
 */
export async function claimEvents(trx: Knex.Transaction, events: readonly DecodedEvent[], deliveries: ReadonlyMap<string, number>): Promise<Claims> {
  const { rows } = await trx.raw<{ rows: Array<{ event_id: string; outcome: string; reason: string | null; reason_detail: string | null; inserted: boolean }> }>(
    `insert into webhook_events (event_id, webhook_type, trade_id, trade_reference, outcome, body, topic, partition, "offset", received_at, deliveries)
     select e.event_id, e.webhook_type, e.trade_id, e.trade_reference, 'applied', e.body, e.topic, e.partition, e.offset,
            to_timestamp(e.received_at / 1000), e.deliveries
     from unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::int[], ?::bigint[], ?::double precision[], ?::int[])
       as e(event_id, webhook_type, trade_id, trade_reference, body, topic, partition, "offset", received_at, deliveries)
     order by e.event_id
     on conflict (event_id) do update
       set deliveries = webhook_events.deliveries + excluded.deliveries, last_seen_at = now()
       where webhook_events.webhook_type = excluded.webhook_type
         and ((excluded.trade_id is null and excluded.trade_reference is null)
              or (webhook_events.trade_id is null and webhook_events.trade_reference is null)
              or case when excluded.trade_reference is not null then webhook_events.trade_reference = excluded.trade_reference
                      else webhook_events.trade_id = excluded.trade_id end)
     returning event_id, outcome, reason, reason_detail, (xmax = 0) as inserted`,
    arrays(
      events.map(eventIdOf),
      events.map(typeOf),
      events.map(tradeIdOf),
      events.map(tradeReferenceOf),
      ...(['body', 'topic', 'partition', 'offset', 'receivedAt'] as const).map((field) => events.map((event) => deliveryOf(event)[field])),
      events.map((event) => deliveries.get(eventIdOf(event))!),
    ),
  );
  const byId = new Map(rows.map((row) => [row.event_id, { inserted: row.inserted, previous: row.outcome, reason: row.reason, detail: row.reason_detail }]));
  const collisions = new Map<string, string>();
  const collided = events.map(eventIdOf).filter((id) => !byId.has(id));
  if (collided.length > 0) {
    const taken = await trx.raw<{ rows: Array<Identity & { event_id: string }> }>(
      'select event_id, webhook_type, trade_id, trade_reference from webhook_events where event_id = any(?::text[])',
      arrays(collided),
    );
    for (const row of taken.rows) collisions.set(row.event_id, collisionDetail(row.event_id, row));
  }
  return { byId, collisions };
}
