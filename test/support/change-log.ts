import type { Knex } from 'knex';

const TRADE_CHANGES = 'ledger_trade_changes';
const TRANSACTION_CHANGES = 'ledger_transaction_changes';

const quoted = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/**
 * Installs the change log in `schema`: triggers of the test's own (never the migrations') append
 * every update of a trade and every insert or update of a transaction to tables of the test's
 * own, with the event that caused it (the trade's `metadata.last_webhook.event_id` after the
 * change). Rows are read as JSON so that a column the wallet tables gain or lose cannot make the
 * trigger fail the processor's transaction.
 */
export async function installChangeLog(db: Knex, schema: string): Promise<void> {
  const s = quoted(schema);
  await db.raw(`
    create table ${s}.${TRADE_CHANGES} (
      id bigserial primary key,
      trade_id bigint not null,
      event_id text,
      old_status text,
      new_status text,
      old_crypto_amount numeric,
      new_crypto_amount numeric,
      old_fiat_amount numeric,
      new_fiat_amount numeric,
      transaction_id bigint not null default txid_current(),
      changed_at timestamptz not null default clock_timestamp()
    );
    create table ${s}.${TRANSACTION_CHANGES} (
      id bigserial primary key,
      operation text not null,
      trade_id bigint not null,
      kind text,
      event_id text,
      old_status text,
      new_status text,
      old_amount numeric,
      new_amount numeric,
      transaction_hash text,
      payment_reference text,
      provider_reference text,
      transaction_id bigint not null default txid_current(),
      changed_at timestamptz not null default clock_timestamp()
    );
    create function ${s}.ledger_record_trade_change() returns trigger language plpgsql as $$
    declare
      before jsonb := to_jsonb(old);
      after jsonb := to_jsonb(new);
    begin
      insert into ${s}.${TRADE_CHANGES} (trade_id, event_id, old_status, new_status, old_crypto_amount, new_crypto_amount, old_fiat_amount, new_fiat_amount)
      values ((after->>'id')::bigint, after->'metadata'->'last_webhook'->>'event_id', before->>'status', after->>'status',
              (before->>'crypto_amount')::numeric, (after->>'crypto_amount')::numeric, (before->>'fiat_amount')::numeric, (after->>'fiat_amount')::numeric);
      return null;
    end $$;
    create function ${s}.ledger_record_transaction_change() returns trigger language plpgsql as $$
    declare
      before jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) else '{}'::jsonb end;
      after jsonb := to_jsonb(new);
    begin
      insert into ${s}.${TRANSACTION_CHANGES} (operation, trade_id, kind, event_id, old_status, new_status, old_amount, new_amount, transaction_hash, payment_reference, provider_reference)
      values (tg_op, (after->>'trade_id')::bigint, after->>'kind',
              (select t.metadata->'last_webhook'->>'event_id' from ${s}.trades t where t.id = (after->>'trade_id')::bigint),
              before->>'status', after->>'status', (before->>'amount')::numeric, (after->>'amount')::numeric,
              after->>'transaction_hash', after->>'payment_reference', after->>'provider_reference');
      return null;
    end $$;
    create trigger ledger_trade_changes after update on ${s}.trades
      for each row execute function ${s}.ledger_record_trade_change();
    create trigger ledger_transaction_changes after insert or update on ${s}.transactions
      for each row execute function ${s}.ledger_record_transaction_change();
  `);
}

/** Database transactions that changed trades so far (from the change log): the processor at work, seen from outside. */
export async function tradeChangeCount(db: Knex): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ count: string }> }>(`select count(distinct (trade_id, transaction_id)) as count from ${TRADE_CHANGES}`);
  return Number(rows[0]!.count);
}

/**
 * Each database transaction that changed a trade, in the order they changed it, with the event
 * it left as the trade's last webhook (null when the trade's metadata names none).
 */
export async function tradeChangesInOrder(db: Knex): Promise<Array<{ trade_id: string; event_id: string | null }>> {
  const { rows } = await db.raw<{ rows: Array<{ trade_id: string; event_id: string | null }> }>(
    `select trade_id, (array_agg(event_id order by id desc))[1] as event_id
     from ${TRADE_CHANGES} group by trade_id, transaction_id order by trade_id, min(id)`,
  );
  return rows;
}

/** For each trade, how many database transactions inserted or updated its transactions rows. */
export async function transactionRowChangesPerTrade(db: Knex): Promise<Map<string, number>> {
  const { rows } = await db.raw<{ rows: Array<{ trade_id: string; transactions: string }> }>(
    `select trade_id, count(distinct transaction_id) as transactions from ${TRANSACTION_CHANGES} group by trade_id`,
  );
  return new Map(rows.map((row) => [String(row.trade_id), Number(row.transactions)]));
}
