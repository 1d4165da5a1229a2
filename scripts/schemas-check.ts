import { SERVICE_DEFAULTS } from '../platform/defaults';
import { environmentReader } from '../platform/environment';
import { readRegistryConnection } from '../platform/registry-connection';
import { checkCompatibility, createCompatibilityApi, valueSubjects, type CompatibilityApi, type CompatibilityVerdict } from '../platform/schema-compatibility';
import { SUBJECT_COMPATIBILITY, valueSubject } from '../platform/schema-registry';
import { TOPICS } from '../platform/topics';
import { readAvroSchema, TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../schemas/avro-schemas';

/** Exit codes: a schema the registry would refuse, a check that could not be made, a subject with nothing to compare against. */
const NOT_COMPATIBLE = 1;
const NOT_CHECKED = 2;
const UNREGISTERED = 3;

/** A first deploy, when no subject has a version yet: those subjects pass instead of failing with UNREGISTERED. */
const ALLOW_UNREGISTERED = '--allow-unregistered';

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
async function main(args: readonly string[]): Promise<number> {
  const unknown = args.filter((arg) => arg !== ALLOW_UNREGISTERED);
  if (unknown.length > 0) {
    console.error(`schemas:check: unknown argument ${unknown[0]!.slice(0, 100)}; the only one is ${ALLOW_UNREGISTERED}`);
    return NOT_CHECKED;
  }
  const read = environmentReader(process.env);
  const connection = readRegistryConnection(read);
  const checks = [
    { topic: read.topic('WEBHOOK_EVENTS_TOPIC', SERVICE_DEFAULTS.webhookEventsTopic), file: WEBHOOK_EVENT_SCHEMA_FILE },
    { topic: read.topic('TRADE_NOTIFICATIONS_TOPIC', TOPICS.tradeNotifications), file: TRADE_NOTIFICATION_SCHEMA_FILE },
  ];
  read.check();
  const api = createCompatibilityApi(connection.url, { auth: connection.auth, ca: connection.ca });
  let refused = 0;
  const unregistered: string[] = [];
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
    if (verdict.verdict === 'unregistered') unregistered.push(verdict.subject);
  }
  if (refused > 0) {
    console.error(`schemas:check: ${refused} schema(s) that could not be registered: a service starting with them would stop (schema_incompatible or registry_misconfigured)`);
    return NOT_COMPATIBLE;
  }
  if (unregistered.length > 0 && !args.includes(ALLOW_UNREGISTERED)) {
    console.error(await unregisteredMessage(api, unregistered));
    return UNREGISTERED;
  }
  return 0;
}

/** Nothing was compared: a misspelt topic looks the same as a first deploy, so the registry's subjects are shown. */
async function unregisteredMessage(api: CompatibilityApi, subjects: readonly string[]): Promise<string> {
  let listed: string;
  try {
    const { names, total } = await valueSubjects(api);
    listed = total === 0 ? 'none' : `${names.join(', ')}${total > names.length ? ` (and ${total - names.length} more)` : ''}`;
  } catch (error) {
    // The subjects are there to help spot a typo; that no version is registered stands without them.
    listed = `could not be listed: ${(error as Error).message}`;
  }
  return [
    `schemas:check: nothing to compare against: no version registered under ${subjects.join(', ')}.`,
    `  The registry's -value subjects: ${listed}`,
    `  A misspelt topic variable (WEBHOOK_EVENTS_TOPIC, TRADE_NOTIFICATIONS_TOPIC) looks the same; on a first deploy, run with ${ALLOW_UNREGISTERED}.`,
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    // A ConfigError names the variables, never their values.
    console.error(`schemas:check: ${error.message}`);
    process.exitCode = NOT_CHECKED;
  },
);
