import fc from 'fast-check';
import type { Type } from 'avsc';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** avsc's types as this generator reads them: only what each kind of type has. */
interface AnyType {
  readonly typeName: string;
  readonly name?: string;
  readonly branchName?: string;
  readonly symbols?: readonly string[];
  readonly size?: number;
  readonly itemsType?: Type;
  readonly valuesType?: Type;
  readonly types?: readonly Type[];
  readonly fields?: ReadonlyArray<{ readonly name: string; readonly type: Type }>;
}

/**
 * Values of an Avro type, for records written with any version of a schema: every field set,
 * every branch of a union and every symbol of an enum in turn. Hand-made samples would miss a
 * branch a later version changes; avsc's `Type.random()` gives longs a JS number cannot hold
 * exactly. A kind of type this does not know (a logical type with an implementation, a
 * recursive record) throws, so a schema change that needs one is noticed here.
 */
export function avroValues(type: Type, within: readonly string[] = []): fc.Arbitrary<unknown> {
  const avro = type as unknown as AnyType;
  switch (avro.typeName) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'int':
      return fc.integer();
    case 'long':
    // exactLongHook's long, as the services parse: a bigint is written exactly.
    case 'abstract:long':
      return fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
    case 'float':
      return fc.float({ noNaN: true });
    case 'double':
      return fc.double({ noNaN: true });
    case 'bytes':
      return fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes));
    case 'fixed':
      return fc.uint8Array({ minLength: avro.size, maxLength: avro.size }).map((bytes) => Buffer.from(bytes));
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 64 });
    case 'enum':
      return fc.constantFrom(...avro.symbols!);
    case 'array':
      return fc.array(avroValues(avro.itemsType!, within), { maxLength: 4 });
    case 'map':
      return fc.dictionary(fc.string({ maxLength: 16 }), avroValues(avro.valuesType!, within), { maxKeys: 4 });
    case 'union:unwrapped':
      return fc.oneof(...avro.types!.map((branch) => avroValues(branch, within)));
    case 'union:wrapped':
      return fc.oneof(
        ...avro.types!.map((branch) => ((branch as unknown as AnyType).typeName === 'null' ? fc.constant(null) : avroValues(branch, within).map((value) => ({ [(branch as unknown as AnyType).branchName!]: value })))),
      );
    case 'record':
    case 'error': {
      if (within.includes(avro.name!)) throw new TypeError(`no sample values for the recursive record ${avro.name}`);
      const inner = [...within, avro.name!];
      return fc.record(Object.fromEntries(avro.fields!.map((field) => [field.name, avroValues(field.type, inner)])));
    }
    default:
      throw new TypeError(`no sample values for the Avro type ${avro.typeName}`);
  }
}
