export {
  startTradeWebhooks,
  RELWORX_CALLBACK_URL,
  type StartOptions,
  type StartedTradeWebhooks,
  type WebhookKind,
} from './start-trade-webhooks';
export { DEFAULT_APP_IMAGE, APP_IMAGE_VARIABLE } from '../scripts/harness/images/app-image';
export type { ServiceImages } from '../scripts/harness/images';
export type { ServiceAddresses } from '../scripts/harness/containers';
