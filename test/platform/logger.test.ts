import { createLogger } from '../../platform/logger';
import { CapturedLogs } from '../support/receiver';

const VALUE = 'value-that-must-not-be-printed-0123456789';

describe('logger redaction', () => {
  it.each([
    ['the buy signature header', { headers: { 'x-buy-webhook-signature': VALUE, 'content-type': 'application/json' } }, { headers: { 'x-buy-webhook-signature': '[redacted]', 'content-type': 'application/json' } }],
    ['the sell signature header', { headers: { 'x-sell-webhook-signature': VALUE } }, { headers: { 'x-sell-webhook-signature': '[redacted]' } }],
    ['the trade signature header', { headers: { 'x-trade-webhook-signature': VALUE } }, { headers: { 'x-trade-webhook-signature': '[redacted]' } }],
    ['the Relworx signature header', { headers: { 'relworx-signature': VALUE } }, { headers: { 'relworx-signature': '[redacted]' } }],
    ['the Standard Webhooks signature header, beside its id', { headers: { 'webhook-signature': VALUE, 'webhook-id': 'msg_1' } }, { headers: { 'webhook-signature': '[redacted]', 'webhook-id': 'msg_1' } }],
    ['a signature header of a logged request', { req: { method: 'POST', headers: { 'x-buy-webhook-signature': VALUE } } }, { req: { method: 'POST', headers: { 'x-buy-webhook-signature': '[redacted]' } } }],
    ['a secret', { secret: VALUE }, { secret: '[redacted]' }],
    ['a list of secrets', { secrets: [VALUE, VALUE] }, { secrets: '[redacted]' }],
    ['the secret of a logged object', { config: { secret: VALUE, topic: 'webhook-events' } }, { config: { secret: '[redacted]', topic: 'webhook-events' } }],
    ['the secrets of a logged object', { config: { secrets: [VALUE] } }, { config: { secrets: '[redacted]' } }],
  ])('writes [redacted] for %s', (_name, fields, expected) => {
    const logs = new CapturedLogs();
    createLogger({ level: 'info', name: 'test' }, logs).info(fields, 'a line');
    expect(logs.lines).toEqual([expect.objectContaining({ ...expected, msg: 'a line' })]);
    expect(logs.text.join('\n')).not.toContain(VALUE);
  });
});

describe('logger', () => {
  it('writes JSON lines with the service name, from the configured level up', () => {
    const logs = new CapturedLogs();
    const logger = createLogger({ level: 'warn', name: 'receiver' }, logs);
    logger.info('not written');
    logger.warn('written');
    logger.error('written too');
    expect(logs.lines.map(({ level, name, msg }) => [level, name, msg])).toEqual([
      [40, 'receiver', 'written'],
      [50, 'receiver', 'written too'],
    ]);
  });
});
