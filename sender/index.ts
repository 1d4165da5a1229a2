export { signPayload, signStandardWebhook, signRelworx, relworxSignatureHeader } from '../schemas/signatures';
export { buyCompletion, sellCompletion, tradeStatus, relworxPayment, serializePayload, type Amount } from './payloads';
export { sendWebhook, signedRequest, type SendOptions, type SendResult, type SignOptions, type SignedRequest } from './send-webhook';
