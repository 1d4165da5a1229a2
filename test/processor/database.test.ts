import type { Knex } from 'knex';
import { createDatabase } from '../../processor/database';
import { createLogger } from '../../platform/logger';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { testDatabase } from '../support/database';
import { CapturedLogs } from '../support/receiver';

function database(schema?: string): { db: Knex; logs: CapturedLogs } {
  const logs = new CapturedLogs();
  const db = createDatabase({ url: serviceEndpoints().databaseUrl, schema, poolMax: 1, logger: createLogger({ level: 'info', name: 'processor' }, logs) });
  onCleanup(() => db.destroy());
  return { db, logs };
}

describe('createDatabase', () => {
  it('works in the schema it is given', async () => {
    const { schema } = await testDatabase();
    const { db } = database(schema);
    expect((await db.raw('select current_schema() as schema')).rows).toEqual([{ schema }]);
  });

  it('reads numeric amounts and bigint ids as their exact text', async () => {
    const { db } = database();
    const { rows } = await db.raw('select 0.123456789012345678::numeric(38,18) as amount, 9223372036854775807::bigint as id');
    expect(rows).toEqual([{ amount: '0.123456789012345678', id: '9223372036854775807' }]);
  });

  it("writes knex's warnings through the service logger, marked as from knex", () => {
    const { db, logs } = database();
    db('trades').limit('ten' as unknown as number).toString();
    expect(logs.lines).toEqual([expect.objectContaining({ level: 40, name: 'processor', component: 'knex', msg: 'A valid integer must be provided to limit' })]);
  });
});
