import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { serviceEndpoints } from '../setup/service-endpoints';
import { uniqueName } from '../support/names';

const version1 = {
  type: 'record',
  name: 'Probe',
  namespace: 'test.foundation',
  fields: [{ name: 'trade_id', type: 'long' }, { name: 'amount', type: 'string' }],
};
// Backward compatible: a new field with a default.
const version2 = {
  ...version1,
  fields: [...version1.fields, { name: 'note', type: ['null', 'string'], default: null }],
};

describe('schema registry', () => {
  const registry = new SchemaRegistry({ host: serviceEndpoints().schemaRegistryUrl });

  it('round-trips a record in the Confluent wire format under an explicit subject', async () => {
    const subject = `${uniqueName('topic')}-value`;
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(version1) }, { subject });
    const encoded = await registry.encode(id, { trade_id: 7, amount: '0.123456789012345678' });

    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual({ trade_id: 7, amount: '0.123456789012345678' });
  });

  it('registers the same subject again and a backward-compatible new version', async () => {
    const subject = `${uniqueName('topic')}-value`;
    const first = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(version1) }, { subject });
    const again = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(version1) }, { subject });
    const next = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(version2) }, { subject });

    expect(again.id).toBe(first.id);
    expect(next.id).not.toBe(first.id);
    expect(await registry.getLatestSchemaId(subject)).toBe(next.id);
  });
});
