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

  it("writes knex's warnings through the service logger under one message, knex's text in detail", () => {
    const { db, logs } = database();
    db('trades').limit('ten' as unknown as number).toString();
    expect(logs.lines).toEqual([expect.objectContaining({ level: 40, name: 'processor', component: 'knex', msg: 'Knex warning', detail: 'A valid integer must be provided to limit' })]);
  });

  it("writes knex's errors, deprecations and debug lines under one message each, a multi-line text in detail", () => {
    const logs = new CapturedLogs();
    const db = createDatabase({ url: serviceEndpoints().databaseUrl, poolMax: 1, logger: createLogger({ level: 'debug', name: 'processor' }, logs) });
    onCleanup(() => db.destroy());
    // knex's own logger, which every part of knex writes through: the seam the adapter fills.
    const knexLogger = (db.client as { logger: { error(message: unknown): void; deprecate(method: string, alternative: string): void; debug(message: unknown): void } }).logger;
    const failure = new Error('Connection Error: connect ECONNREFUSED 127.0.0.1:5432');
    knexLogger.error(failure);
    knexLogger.deprecate('.old()', '.new()');
    knexLogger.debug({ sql: 'select 1' });
    expect(logs.lines.map(({ level, component, msg }) => [level, component, msg])).toEqual([
      [50, 'knex', 'Knex error'],
      [40, 'knex', 'Knex deprecation'],
      [20, 'knex', 'Knex debug'],
    ]);
    expect(logs.lines.map(({ detail }) => detail)).toEqual([failure.stack, '.old() is deprecated, please use .new()', "{ sql: 'select 1' }"]);
  });
});
