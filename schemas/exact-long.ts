import { types, type Schema, type Type } from 'avsc';

/**
 * Trade and user ids are PostgreSQL bigints: any signed 64-bit integer. A JS number holds them
 * exactly only up to 2^53, so ids travel as decimal text (`"1234567890123456789"`) and
 * are encoded as Avro `long` without passing through a double.
 */
export type ExactLong = number | bigint | string;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^-?(0|[1-9]\d*)$/;

/** The integer as a bigint when it is one a bigint column holds exactly; otherwise undefined. */
function toInt64(value: unknown): bigint | undefined {
  let integer: bigint;
  if (typeof value === 'bigint') integer = value;
  // A number past 2^53 may already have been rounded: it is not trusted as an id.
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return undefined;
    integer = BigInt(value);
  } else if (typeof value === 'string' && INTEGER_TEXT.test(value)) integer = BigInt(value);
  else return undefined;
  return integer >= INT64_MIN && integer <= INT64_MAX ? integer : undefined;
}

/** The decimal text of a signed 64-bit integer written as JSON integer text, or undefined. */
export function int64Text(text: string): string | undefined {
  const integer = toInt64(text);
  return integer === undefined ? undefined : integer.toString();
}

/** A number when that is exact, else a bigint: timestamps and small ids stay plain numbers. */
function fromInt64(integer: bigint): number | bigint {
  const number = Number(integer);
  return Number.isSafeInteger(number) ? number : integer;
}

function checked(value: unknown): bigint {
  const integer = toInt64(value);
  if (integer === undefined) throw new TypeError(`not a signed 64-bit integer: ${String(value)}`);
  return integer;
}

/**
 * An Avro `long` that encodes a safe number, a bigint or decimal text exactly, and decodes to a
 * number when it is a safe integer, else a bigint. The wire format is the standard long, so
 * every reader of the schema sees the same bytes.
 */
export const EXACT_LONG: Type = types.LongType.__with({
  fromBuffer: (buffer: Buffer) => fromInt64(buffer.readBigInt64LE(0)),
  toBuffer: (value: ExactLong) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(checked(value));
    return buffer;
  },
  fromJSON: (value: ExactLong) => fromInt64(checked(value)),
  // JSON numbers past 2^53 would be rounded by JSON.parse: those are written as decimal text.
  toJSON: (value: ExactLong) => {
    const integer = fromInt64(checked(value));
    return typeof integer === 'bigint' ? integer.toString() : integer;
  },
  isValid: (value: unknown) => toInt64(value) !== undefined,
  compare: (a: ExactLong, b: ExactLong) => {
    const left = checked(a);
    const right = checked(b);
    return left < right ? -1 : left > right ? 1 : 0;
  },
});

/**
 * avsc's `typeHook` that puts EXACT_LONG in place of every `long`, logical ones included
 * (timestamp-millis still decodes to a number). A hook rather than a `registry` entry: avsc
 * adds each named type it parses to the registry object it is given, and the registry client
 * hands the same options to every parse, so a shared registry refuses the second parse of a
 * schema ("duplicate type name").
 */
export function exactLongHook(schema: Schema): Type | undefined {
  if (schema === 'long') return EXACT_LONG;
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long') return EXACT_LONG;
  return undefined;
}
