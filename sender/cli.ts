import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signPayload, signStandardWebhook } from '../schemas/signatures';
import { webhookByName, WEBHOOKS } from '../schemas/webhook-catalog';
import { buyCompletion, relworxPayment, sellCompletion, serializePayload, tradeStatus } from './payloads';
import { sendWebhook } from './send-webhook';
import { environmentReader } from '../platform/environment';
import { SECRET_VARIABLES } from '../platform/secret-variables';

const HELP = `trade-webhooks — sign and send the exchange's trade webhooks

Usage:
  trade-webhooks send <type> [options]     build, sign and POST a webhook; retries 5xx and 429
  trade-webhooks sign --type <type> [file|-]  print the signature headers for a body (stdin with -)
  trade-webhooks --help

Types: ${WEBHOOKS.map((webhook) => webhook.name).join(', ')}

The secret comes from --secret or the receiver's variable for the type
(BUY_WEBHOOK_SECRET, SELL_WEBHOOK_SECRET, TRADE_WEBHOOK_SECRET, RELWORX_WEBHOOK_SECRET).

send options:
  --url <base>               receiver address (default http://localhost:8000)
  --gateway                  post to /api/v1/webhooks/<type> (the API gateway's paths)
  --standard                 sign with Standard Webhooks headers (webhook-id, -timestamp, -signature)
  --body <file|->            send this body as it is instead of building one
  --status <status>          completed|failed (buy, sell), pending|processing|... (trade-status), success|failed (relworx)
  --trade-id <id>            buy-complete, sell-complete, trade-status
  --crypto-amount <amount>   buy-complete
  --tx-hash <hash>           buy-complete (required when completed)
  --fiat-amount <amount>     sell-complete
  --payment-reference <ref>  sell-complete (required when completed)
  --metadata <json>          trade-status
  --customer-reference <ref> relworx: the trade's reference
  --internal-reference <ref> relworx: Relworx's own reference
  --amount <amount> --currency <code> --msisdn <number> --provider <name>   relworx
  --callback-url <url>       relworx: the callback URL the signature covers (RELWORX_CALLBACK_URL)
  --max-attempts <n>         attempts in all (default 5)

Examples:
  export BUY_WEBHOOK_SECRET=...
  trade-webhooks send buy-complete --trade-id 123 --crypto-amount 0.001 --tx-hash 0xabc
  trade-webhooks send sell-complete --trade-id 124 --fiat-amount 100.0 --payment-reference PAY_REF_1 --gateway
  echo -n '{"trade_id":125,"status":"processing"}' | trade-webhooks sign --type trade-status -

Exit status: 0 when the receiver answered 2xx, 1 otherwise, 2 for a usage error.`;

class UsageError extends Error {}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  url: { type: 'string' },
  gateway: { type: 'boolean' },
  standard: { type: 'boolean' },
  secret: { type: 'string' },
  body: { type: 'string' },
  type: { type: 'string' },
  status: { type: 'string' },
  'trade-id': { type: 'string' },
  'crypto-amount': { type: 'string' },
  'tx-hash': { type: 'string' },
  'fiat-amount': { type: 'string' },
  'payment-reference': { type: 'string' },
  metadata: { type: 'string' },
  'customer-reference': { type: 'string' },
  'internal-reference': { type: 'string' },
  amount: { type: 'string' },
  currency: { type: 'string' },
  msisdn: { type: 'string' },
  provider: { type: 'string' },
  'callback-url': { type: 'string' },
  'max-attempts': { type: 'string' },
  id: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function readInput(source: string): string {
  return readFileSync(source === '-' ? 0 : source, 'utf8');
}

function secretFor(type: string, values: Values): string {
  const definition = webhookByName(type)!;
  const variable = SECRET_VARIABLES[definition.type];
  if (values.secret) return values.secret;
  const read = environmentReader(process.env);
  const secret = read.secret(variable);
  if (read.problems.length > 0) throw new UsageError(read.problems.join('; '));
  if (!secret) throw new UsageError(`no secret: pass --secret or set ${variable} (or ${variable}_FILE)`);
  return secret;
}

function tradeId(values: Values): number {
  const raw = values['trade-id'];
  if (!raw || !/^\d+$/.test(raw)) throw new UsageError('--trade-id <integer> is required');
  return Number(raw);
}

function buildPayload(type: string, values: Values): unknown {
  switch (type) {
    case 'buy-complete':
      return buyCompletion({ tradeId: tradeId(values), status: (values.status ?? 'completed') as 'completed', cryptoAmount: values['crypto-amount'], transactionHash: values['tx-hash'] });
    case 'sell-complete':
      return sellCompletion({ tradeId: tradeId(values), status: (values.status ?? 'completed') as 'completed', fiatAmount: values['fiat-amount'], paymentReference: values['payment-reference'] });
    case 'trade-status':
      if (!values.status) throw new UsageError('--status is required for trade-status');
      return tradeStatus({ tradeId: tradeId(values), status: values.status as 'processing', metadata: values.metadata ? (JSON.parse(values.metadata) as Record<string, unknown>) : undefined });
    case 'relworx':
      if (!values['customer-reference'] || !values['internal-reference']) throw new UsageError('--customer-reference and --internal-reference are required for relworx');
      return relworxPayment({
        customerReference: values['customer-reference'],
        internalReference: values['internal-reference'],
        status: (values.status ?? 'success') as 'success',
        amount: values.amount,
        currency: values.currency,
        msisdn: values.msisdn,
        provider: values.provider,
      });
    default:
      throw new UsageError(`unknown type "${type}"`);
  }
}

async function send(type: string, values: Values): Promise<number> {
  if (!webhookByName(type)) throw new UsageError(`unknown type "${type}"; one of ${WEBHOOKS.map((webhook) => webhook.name).join(', ')}`);
  const body = values.body ? readInput(values.body) : serializePayload(buildPayload(type, values));
  const maxAttempts = values['max-attempts'] ? Number(values['max-attempts']) : undefined;
  const result = await sendWebhook(values.url ?? 'http://localhost:8000', type, body, {
    secret: secretFor(type, values),
    gateway: values.gateway,
    standard: values.standard,
    callbackUrl: values['callback-url'] ?? process.env.RELWORX_CALLBACK_URL,
    maxAttempts,
  });
  console.log(`${result.status} after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'}`);
  console.log(result.body);
  return result.ok ? 0 : 1;
}

function sign(values: Values, positionals: string[]): number {
  const type = values.type;
  if (!type || !webhookByName(type)) throw new UsageError('--type <buy-complete|sell-complete|trade-status|relworx> is required');
  if (type === 'relworx' && !values.standard) throw new UsageError('Relworx signs fields, not a body: use `send relworx`, or --standard');
  const body = readInput(positionals[0] ?? '-');
  const secret = secretFor(type, values).split(',')[0]!.trim();
  if (values.standard) {
    const id = values.id ?? `msg_${Date.now()}`;
    const timestamp = Math.floor(Date.now() / 1000);
    console.log(`webhook-id: ${id}`);
    console.log(`webhook-timestamp: ${timestamp}`);
    console.log(`webhook-signature: ${signStandardWebhook(id, timestamp, body, secret)}`);
  } else {
    const header = webhookByName(type)!.signatureHeader.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
    console.log(`${header}: ${signPayload(body, secret)}`);
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.help || !command) {
      console.log(HELP);
      return values.help ? 0 : 2;
    }
    if (command === 'send') {
      if (!rest[0]) throw new UsageError('send needs a type, e.g. `send buy-complete`');
      return await send(rest[0], values);
    }
    if (command === 'sign') return sign(values, rest);
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\nRun trade-webhooks --help for usage.`);
      return 2;
    }
    console.error(`trade-webhooks: ${(error as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
