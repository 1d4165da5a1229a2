import type { WebhookType } from '../schemas/webhook-catalog';

/**
 * The environment variable that holds each webhook type's secrets (several, comma-separated,
 * while one is being rotated). The receiver reads them; the sender CLI and the local stack use
 * the same names so a shell that can run one can run the other.
 */
export const SECRET_VARIABLES: Readonly<Record<WebhookType, string>> = Object.freeze({
  buy_completion: 'BUY_WEBHOOK_SECRET',
  sell_completion: 'SELL_WEBHOOK_SECRET',
  trade_status: 'TRADE_WEBHOOK_SECRET',
  relworx_payment: 'RELWORX_WEBHOOK_SECRET',
});
