export { signPayload, signStandardWebhook, signRelworx, relworxSignatureHeader } from '../schemas/signatures';
export { buyCompletion, sellCompletion, tradeStatus, relworxPayment, serializePayload, type Amount } from './payloads';
export { sendWebhook, type SendOptions, type SendResult } from './send-webhook';
