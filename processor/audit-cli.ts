import { parseArgs } from 'node:util';
import { int64Text } from '../schemas/exact-long';
import { createLogger } from '../platform/logger';
import { auditTrail, formatAuditTrail } from './audit-trail';
import { readProcessorConfig } from './config';
import { createDatabase } from './database';

const USAGE = 'Usage: npm run events -- --trade-id <id> | --event-id <id> [--json]';

/** `npm run events`: the audit trail of a trade's webhooks, from webhook_events. */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'trade-id': { type: 'string' }, 'event-id': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
  if (values.help || (!values['trade-id'] && !values['event-id'])) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (values['trade-id'] !== undefined && int64Text(values['trade-id']) === undefined) {
    console.error(`--trade-id must be a trade id (an integer)\n${USAGE}`);
    return 2;
  }
  const config = readProcessorConfig();
  const db = createDatabase({ url: config.databaseUrl, schema: config.databaseSchema, poolMax: 2, logger: createLogger({ level: 'warn', name: 'events' }) });
  try {
    // The id stays text: trade ids are bigints, which a JS number would round above 2^53.
    const rows = await auditTrail(db, { tradeId: values['trade-id'], eventId: values['event-id'] });
    console.log(values.json ? JSON.stringify(rows, null, 2) : formatAuditTrail(rows));
    return 0;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    console.error(`events: ${error.message}`);
    process.exitCode = 1;
  },
);
