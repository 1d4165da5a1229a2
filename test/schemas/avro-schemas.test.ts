import { readdirSync } from 'node:fs';
import { Type } from 'avsc';
import { AVRO_DIR, readAvroSchema, TRADE_NOTIFICATION_SCHEMA_FILE, WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';

const SCHEMAS: Array<[file: string, name: string, namespace: string]> = [
  ['buy-completion.avsc', 'BuyCompletion', 'exchange.trade_webhooks.payloads'],
  ['relworx-payment.avsc', 'RelworxPayment', 'exchange.trade_webhooks.payloads'],
  ['sell-completion.avsc', 'SellCompletion', 'exchange.trade_webhooks.payloads'],
  ['trade-notification.avsc', 'TradeNotification', 'exchange.trade_webhooks'],
  ['trade-status.avsc', 'TradeStatus', 'exchange.trade_webhooks.payloads'],
  ['webhook-event.avsc', 'WebhookEvent', 'exchange.trade_webhooks'],
];

describe('Avro schema files', () => {
  it.each(SCHEMAS)('reads %s as the record %s of %s, one Avro can parse', (file, name, namespace) => {
    const schema = readAvroSchema(file);
    expect([schema.type, schema.name, schema.namespace]).toEqual(['record', name, namespace]);
    expect(Type.forSchema(schema as never).name).toBe(`${namespace}.${name}`);
  });

  it('holds those six files and no other in the schema folder', () => {
    expect(readdirSync(AVRO_DIR).sort()).toEqual(SCHEMAS.map(([file]) => file));
  });

  it('names the WebhookEvent and TradeNotification files in its constants', () => {
    expect([readAvroSchema(WEBHOOK_EVENT_SCHEMA_FILE).name, readAvroSchema(TRADE_NOTIFICATION_SCHEMA_FILE).name]).toEqual(['WebhookEvent', 'TradeNotification']);
  });

  it('reads a file once and hands back the same schema after', () => {
    expect(readAvroSchema('trade-status.avsc')).toBe(readAvroSchema('trade-status.avsc'));
  });

  it('throws for a file that is not there', () => {
    expect(() => readAvroSchema('refund.avsc')).toThrow(/ENOENT/);
  });
});
