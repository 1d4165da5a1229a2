import type { Knex } from 'knex';

/**
 * `reason` becomes a stable code that queries and alerts can match (`amount_mismatch`), and the
 * human explanation moves to `reason_detail`. Rows written before held `code: detail` when
 * rejected and a sentence when stale: a transition that was not allowed, or (written by this
 * migration's `down`) a payment already received. Only those sentences are converted: a reason
 * that is already a code stays as it is.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_events', (table) => {
    table.text('reason_detail');
  });
  await knex.raw(`
    update webhook_events
    set reason_detail = substr(reason, strpos(reason, ': ') + 2), reason = substr(reason, 1, strpos(reason, ': ') - 1)
    where outcome = 'rejected' and strpos(reason, ': ') > 0`);
  await knex.raw(`
    update webhook_events set reason_detail = reason, reason = 'transition_not_allowed'
    where outcome = 'stale' and reason like 'trade is %; % not applied'`);
  await knex.raw(`
    update webhook_events set reason_detail = reason, reason = 'payment_already_received'
    where outcome = 'stale' and reason like '%internal reference %'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`update webhook_events set reason = reason || ': ' || reason_detail where outcome = 'rejected' and reason_detail is not null`);
  await knex.raw(`update webhook_events set reason = coalesce(reason_detail, reason) where outcome = 'stale'`);
  await knex.schema.alterTable('webhook_events', (table) => {
    table.dropColumn('reason_detail');
  });
}
