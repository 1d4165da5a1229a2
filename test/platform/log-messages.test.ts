import { WEBHOOK_LOG_MESSAGES, webhookLogMessages } from '../../platform/log-messages';
import { WEBHOOKS } from '../../schemas/webhook-catalog';

describe('webhook log messages', () => {
  it('are the original service’s messages for the buy completion webhook', () => {
    expect(WEBHOOK_LOG_MESSAGES.buy_completion).toMatchObject({
      received: 'Received buy completion webhook',
      invalidSignature: 'Invalid buy webhook signature',
      failed: 'Error processing buy completion webhook',
    });
  });

  it('differ between every type, so a message alone tells the types apart', () => {
    const all = WEBHOOKS.flatMap((webhook) => Object.values(WEBHOOK_LOG_MESSAGES[webhook.type]));
    expect(new Set(all).size).toBe(all.length);
  });

  it('has a generic set for a type that is none of ours, not one borrowed from an object prototype', () => {
    expect(webhookLogMessages('refund').failed).toBe('Error processing webhook of an unknown type');
    expect(webhookLogMessages('constructor').failed).toBe('Error processing webhook of an unknown type');
    expect(webhookLogMessages('trade_status').failed).toBe('Error processing trade status webhook');
  });
});
