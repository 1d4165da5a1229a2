import { equalBytes, hexDigest, matchSecret, splitSecrets } from '../../../schemas/signatures/secret-keys';

const DIGEST_HEX = '5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592';
const DIGEST_BYTES = [
  0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17, 0xc5, 0x92,
  0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17, 0xc5, 0x92,
];

describe('splitSecrets', () => {
  it.each([
    ['one secret', 'first', ['first']],
    ['a current and a rotated-out secret', 'new,old', ['new', 'old']],
    ['secrets with spaces around them', ' new , old ', ['new', 'old']],
    ['empty entries', 'new,,old,', ['new', 'old']],
    ['nothing', '', []],
    ['only separators and spaces', ' , ,', []],
    ['base64 padding inside a secret', 'whsec_AAAA==,plain', ['whsec_AAAA==', 'plain']],
  ])('reads %s', (_name, variable, secrets) => {
    expect(splitSecrets(variable)).toEqual(secrets);
  });
});

describe('hexDigest', () => {
  it.each([
    ['lower-case hex', DIGEST_HEX],
    ['upper-case hex', DIGEST_HEX.toUpperCase()],
  ])('reads a SHA-256 digest in %s as its 32 bytes', (_name, text) => {
    expect([...hexDigest(text)!]).toEqual(DIGEST_BYTES);
  });

  it.each([
    ['one digit short', DIGEST_HEX.slice(1)],
    ['one digit long', `${DIGEST_HEX}0`],
    ['a digit that is not hex', `g${DIGEST_HEX.slice(1)}`],
    ['a sha256= prefix', `sha256=${DIGEST_HEX}`],
    ['surrounding space', ` ${DIGEST_HEX}`],
    ['nothing', ''],
  ])('reads nothing from a digest with %s', (_name, text) => {
    expect(hexDigest(text)).toBeUndefined();
  });
});

describe('equalBytes', () => {
  it.each([
    ['the same bytes', Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]), true],
    ['bytes differing in the last one', Buffer.from([1, 2, 3]), Buffer.from([1, 2, 4]), false],
    ['a prefix of the other', Buffer.from([1, 2]), Buffer.from([1, 2, 3]), false],
    ['two empty buffers', Buffer.alloc(0), Buffer.alloc(0), true],
  ])('compares %s: %s', (_name, a, b, equal) => {
    expect(equalBytes(a, b)).toBe(equal);
  });
});

describe('matchSecret', () => {
  const digests: Record<string, Buffer> = { a: Buffer.alloc(32, 1), b: Buffer.alloc(32, 2), c: Buffer.alloc(32, 3) };

  it('names the position of the secret whose digest was given', () => {
    expect(matchSecret(['a', 'b', 'c'], [digests.b!], (secret) => digests[secret])).toEqual({ secret: 1 });
  });

  it('names the first of two secrets that match', () => {
    expect(matchSecret(['a', 'b', 'a'], [digests.a!], (secret) => digests[secret])).toEqual({ secret: 0 });
  });

  it('computes the digest of every secret, after a match as before one', () => {
    const computed: string[] = [];
    const digestOf = (secret: string) => (computed.push(secret), digests[secret]);
    expect(matchSecret(['a', 'b', 'c'], [digests.a!, Buffer.alloc(32)], digestOf)).toEqual({ secret: 0 });
    expect(computed).toEqual(['a', 'b', 'c']);
  });

  it('matches nothing with a secret that has no digest, or with no secrets', () => {
    expect(matchSecret(['x'], [Buffer.alloc(0)], () => undefined)).toBeUndefined();
    expect(matchSecret([], [digests.a!], (secret) => digests[secret])).toBeUndefined();
  });
});
