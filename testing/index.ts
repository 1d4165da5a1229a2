export {
  startTradeWebhooks,
  DEFAULT_APP_IMAGE,
  APP_IMAGE_VARIABLE,
  RELWORX_CALLBACK_URL,
  type StartOptions,
  type StartedTradeWebhooks,
  type WebhookKind,
} from './start-trade-webhooks';
export type { ServiceImages } from '../scripts/harness/images';
export type { ServiceAddresses } from '../scripts/harness/containers';
