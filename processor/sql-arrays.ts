import type { Knex } from 'knex';

/**
 * Column arrays bound as PostgreSQL arrays (`unnest(?::text[], ...)`), so a statement's
 * count does not grow with its rows: knex's types do not know nullable arrays.
 */
export const arrays = (...columns: unknown[][]): Knex.RawBinding[] => columns as unknown as Knex.RawBinding[];
