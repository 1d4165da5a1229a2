import { SERVICE_DEFAULTS } from '../platform/defaults';
import { environmentReader } from '../platform/environment';
import { readRegistryConnection } from '../platform/registry-connection';
import { checkCompatibility, createCompatibilityApi, type CompatibilityVerdict } from '../platform/schema-compatibility';
import { SUBJECT_COMPATIBILITY, valueSubject } from '../platform/schema-registry';
import { TOPICS } from '../platform/topics';
import { readAvroSchema, TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../schemas/avro-schemas';

/** Exit codes: a schema the registry would refuse, and a check that could not be made. */
const NOT_COMPATIBLE = 1;
const NOT_CHECKED = 2;

function verdictLine(verdict: CompatibilityVerdict, file: string): string {
  const head = `${verdict.subject} (${file}): `;
  if (verdict.verdict === 'compatible') return `${head}compatible`;
  if (verdict.verdict === 'unregistered') return `${head}no version registered yet (the first start registers it)`;
  if (verdict.verdict === 'misconfigured') return `${head}NOT registrable: the subject's compatibility is ${verdict.level}, and the services register only under ${SUBJECT_COMPATIBILITY}`;
  const reasons = verdict.reasons.length > 0 ? verdict.reasons : ['the registry gave no reasons'];
  return `${head}NOT compatible\n${reasons.map((reason) => `    ${reason}`).join('\n')}`;
}

/**
 * `npm run schemas:check`: whether the working tree's schemas may be registered under the
 * subjects the services register them under (the receiver WebhookEvent, the processor
 * TradeNotification), asked of the registry the services use, before a deploy. Read-only.
 */
async function main(): Promise<number> {
  const read = environmentReader(process.env);
  const connection = readRegistryConnection(read);
  const checks = [
    { topic: read.topic('WEBHOOK_EVENTS_TOPIC', SERVICE_DEFAULTS.webhookEventsTopic), file: WEBHOOK_EVENT_SCHEMA_FILE },
    { topic: read.topic('TRADE_NOTIFICATIONS_TOPIC', TOPICS.tradeNotifications), file: TRADE_NOTIFICATION_SCHEMA_FILE },
  ];
  read.check();
  const api = createCompatibilityApi(connection.url, { auth: connection.auth, ca: connection.ca });
  let refused = 0;
  for (const { topic, file } of checks) {
    const schema = JSON.stringify(readAvroSchema(file));
    let verdict: CompatibilityVerdict;
    try {
      verdict = await checkCompatibility(api, valueSubject(topic), schema);
    } catch (error) {
      console.error(`schemas:check: could not check against the schema registry at ${connection.url}: ${(error as Error).message}`);
      return NOT_CHECKED;
    }
    console.log(verdictLine(verdict, file));
    if (verdict.verdict === 'incompatible' || verdict.verdict === 'misconfigured') refused += 1;
  }
  if (refused > 0) {
    console.error(`schemas:check: ${refused} schema(s) that could not be registered: a service starting with them would stop (schema_incompatible or registry_misconfigured)`);
    return NOT_COMPATIBLE;
  }
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    // A ConfigError names the variables, never their values.
    console.error(`schemas:check: ${error.message}`);
    process.exitCode = NOT_CHECKED;
  },
);
