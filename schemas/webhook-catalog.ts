/**
 * The four webhooks: where each is served, how it is signed and what it is called in logs.
 * Every side (receiver, processor, sender toolkit) reads this table instead of its own copy.
 */
export type WebhookType = 'buy_completion' | 'sell_completion' | 'trade_status' | 'relworx_payment';

export interface WebhookDefinition {
  readonly type: WebhookType;
  /** The last path segment: `/api/webhooks/<name>` and `/api/v1/webhooks/<name>`. */
  readonly name: string;
  /** The per-type signature header (lower case, as node:http exposes headers). */
  readonly signatureHeader: string;
  readonly secretVariable: string;
  /** The Avro schema in schemas/avro/ the body is validated against. */
  readonly schemaFile: string;
  /** How the seed's log messages name it: `Received buy completion webhook`, `Invalid buy webhook signature`. */
  readonly logName: string;
  readonly logShortName: string;
}

export const WEBHOOKS: readonly WebhookDefinition[] = Object.freeze([
  {
    type: 'buy_completion',
    name: 'buy-complete',
    signatureHeader: 'x-buy-webhook-signature',
    secretVariable: 'BUY_WEBHOOK_SECRET',
    schemaFile: 'buy-completion.avsc',
    logName: 'buy completion',
    logShortName: 'buy',
  },
  {
    type: 'sell_completion',
    name: 'sell-complete',
    signatureHeader: 'x-sell-webhook-signature',
    secretVariable: 'SELL_WEBHOOK_SECRET',
    schemaFile: 'sell-completion.avsc',
    logName: 'sell completion',
    logShortName: 'sell',
  },
  {
    type: 'trade_status',
    name: 'trade-status',
    signatureHeader: 'x-trade-webhook-signature',
    secretVariable: 'TRADE_WEBHOOK_SECRET',
    schemaFile: 'trade-status.avsc',
    logName: 'trade status',
    logShortName: 'trade',
  },
  {
    type: 'relworx_payment',
    name: 'relworx',
    signatureHeader: 'relworx-signature',
    secretVariable: 'RELWORX_WEBHOOK_SECRET',
    schemaFile: 'relworx-payment.avsc',
    logName: 'relworx payment',
    logShortName: 'relworx',
  },
] as const);

export const WEBHOOK_PATH_PREFIXES = ['/api/webhooks/', '/api/v1/webhooks/'] as const;

const byType = new Map(WEBHOOKS.map((definition) => [definition.type, definition]));

export function webhookByType(type: string): WebhookDefinition | undefined {
  return byType.get(type as WebhookType);
}

/** `buy-complete` → its definition; also used to print every served path. */
export function webhookByName(name: string): WebhookDefinition | undefined {
  return WEBHOOKS.find((definition) => definition.name === name);
}
