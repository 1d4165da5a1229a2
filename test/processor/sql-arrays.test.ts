import type { Knex } from 'knex';
import { arrays } from '../../processor/sql-arrays';
import { testDatabase } from '../support/database';

describe('column arrays bound as PostgreSQL arrays', () => {
  let db: Knex;
  beforeAll(async () => {
    ({ db } = await testDatabase());
  });

  it('binds each column as one array, nulls and exact numbers included, row by row', async () => {
    const { rows } = await db.raw('select * from unnest(?::text[], ?::bigint[], ?::numeric[]) as t(name, id, amount)', arrays(
      ['a', null, 'c'],
      ['9223372036854775807', '2', null],
      ['0.123456789012345678', null, '1'],
    ));
    expect(rows).toEqual([
      { name: 'a', id: '9223372036854775807', amount: '0.123456789012345678' },
      { name: null, id: '2', amount: null },
      { name: 'c', id: null, amount: '1' },
    ]);
  });

  it('binds 100,000 rows with one parameter per column, past the 65,535 parameters of a statement', async () => {
    const ids = Array.from({ length: 100_000 }, (_, index) => index);
    const { rows } = await db.raw('select count(*)::int as count, sum(id)::bigint as total from unnest(?::int[]) as t(id)', arrays(ids));
    expect(rows).toEqual([{ count: 100_000, total: '4999950000' }]);
  });
});
