import { Type } from 'avsc';
import { EXACT_LONG, exactLongHook, int64Text } from '../../schemas/exact-long';

const record = Type.forSchema(
  {
    type: 'record',
    name: 'Ids',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    ],
  },
  { typeHook: exactLongHook },
);

/** The zigzag varint of a long, computed independently of avsc: what any Avro reader expects. */
function zigzagVarint(value: bigint): Buffer {
  let zigzag = value >= 0n ? value << 1n : ((-value) << 1n) - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    bytes.push(zigzag > 0n ? low | 0x80 : low);
  } while (zigzag > 0n);
  return Buffer.from(bytes);
}

describe('exact Avro long', () => {
  it.each([
    ['decimal text above 2^53', '1234567890123456789', 1234567890123456789n],
    ['the largest bigint', '9223372036854775807', 9223372036854775807n],
    ['the smallest bigint', '-9223372036854775808', -9223372036854775808n],
    ['a bigint', 9007199254740993n, 9007199254740993n],
    ['a safe number', 42, 42],
    ['decimal text of a safe integer', '-17', -17],
  ])('writes %s as the standard long and reads it back exactly', (_name, value, decoded) => {
    const buffer = EXACT_LONG.toBuffer(value);
    expect(buffer).toEqual(zigzagVarint(BigInt(value)));
    expect(EXACT_LONG.fromBuffer(buffer)).toBe(decoded);
  });

  it.each([
    ['a number past 2^53 (already rounded)', 2 ** 60],
    ['a fraction', 1.5],
    ['text past the bigint range', '9223372036854775808'],
    ['text that is not an integer', '12abc'],
    ['text with a leading zero', '012'],
    ['null', null],
  ])('refuses %s', (_name, value) => {
    expect(EXACT_LONG.isValid(value)).toBe(false);
    expect(() => EXACT_LONG.toBuffer(value)).toThrow();
  });

  it('keeps timestamp-millis fields plain numbers', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    expect(record.fromBuffer(record.toBuffer({ id: '9223372036854775807', at }))).toEqual(expect.objectContaining({ id: 9223372036854775807n, at }));
  });

  it('reads JSON integer text as the exact decimal text of a bigint, or nothing', () => {
    expect([int64Text('9007199254740993'), int64Text('-0'), int64Text('9223372036854775808'), int64Text('1e3')]).toEqual(['9007199254740993', '0', undefined, undefined]);
  });
});
