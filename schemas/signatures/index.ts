export { signPayload, verifyPayloadSignature } from './hmac-signature';
export {
  signStandardWebhook,
  verifyStandardWebhook,
  standardWebhookKey,
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  STANDARD_WEBHOOKS_MIN_KEY_BYTES,
  WHSEC_PREFIX,
  type StandardWebhookHeaders,
  type StandardWebhookVerdict,
} from './standard-webhooks';
export {
  signRelworx,
  relworxSignatureHeader,
  parseRelworxHeader,
  relworxTimestampFresh,
  verifyRelworx,
  RELWORX_SIGNED_FIELDS,
  RELWORX_TOLERANCE_SECONDS,
  type RelworxHeader,
  type RelworxSignedFields,
} from './relworx-signature';
export { splitSecrets, type SecretMatch } from './secret-keys';
