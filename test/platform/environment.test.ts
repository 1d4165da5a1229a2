import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, environmentReader, MAX_NAMED_FILE_BYTES, MAX_SECRET_FILE_BYTES, type EnvironmentReader } from '../../platform/environment';
import { fileHolding } from '../support/environment';

/** A value that looks like a (base64) secret someone put into the wrong variable. */
const SECRET = 'S3CR3T+relworx/value=0123456789abcdef';

function refusal(read: (reader: EnvironmentReader) => void, env: NodeJS.ProcessEnv): ConfigError {
  const reader = environmentReader(env);
  read(reader);
  try {
    reader.check();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the value was accepted');
}

/** What `read` returns for `value` of VALUE, and the problems it recorded. */
function reading<T>(read: (reader: EnvironmentReader) => T, value: string | undefined): { value: T; problems: string[] } {
  const reader = environmentReader({ VALUE: value });
  return { value: read(reader), problems: reader.problems };
}

const HOST_PROBLEM = 'VALUE must be an IP address or a hostname';
const HTTP_PROBLEM = 'VALUE must be an absolute http:// or https:// URL';
const POSTGRES_PROBLEM = 'VALUE must be a postgres:// or postgresql:// URL';
const LEVEL_PROBLEM = 'VALUE must be one of fatal, error, warn, info, debug, trace, silent';
const BROKERS_PROBLEM = 'VALUE must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas';

describe('environment readers', () => {
  it.each([
    ['a whole number', (reader: EnvironmentReader) => reader.integer('PORT', 8000, 0, 65535), 'PORT must be a whole number from 0 to 65535'],
    ['a flag', (reader: EnvironmentReader) => reader.flag('PORT', true), 'PORT must be true or false'],
    ['an http URL', (reader: EnvironmentReader) => reader.httpUrl('PORT', 'http://127.0.0.1'), 'PORT must be an absolute http:// or https:// URL'],
    ['a postgres URL', (reader: EnvironmentReader) => reader.postgresUrl('PORT', 'postgres://127.0.0.1/db'), 'PORT must be a postgres:// or postgresql:// URL'],
    ['a log level', (reader: EnvironmentReader) => reader.logLevel('PORT', 'info'), 'PORT must be one of fatal, error, warn, info, debug, trace, silent'],
    ['a host', (reader: EnvironmentReader) => reader.host('PORT', '0.0.0.0'), 'PORT must be an IP address or a hostname'],
    [
      'brokers',
      (reader: EnvironmentReader) => reader.brokers('PORT', '127.0.0.1:9092'),
      'PORT must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas',
    ],
  ])('names the variable that should hold %s and never prints the value it held', (_name, read, problem) => {
    const error = refusal(read, { PORT: SECRET });
    expect(error.problems).toEqual([problem]);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(SECRET.slice(0, 8));
  });

  it('keeps a URL with credentials out of the message when it does not parse', () => {
    const error = refusal((reader) => reader.postgresUrl('DATABASE_URL', 'postgres://localhost/db'), { DATABASE_URL: 'postgres://app:hunter2@db host/trades' });
    expect(error.problems).toEqual(['DATABASE_URL must be a postgres:// or postgresql:// URL']);
    expect(error.message).not.toContain('hunter2');
  });

  it('keeps a URL with credentials out of the message when its scheme is wrong', () => {
    const error = refusal((reader) => reader.httpUrl('SCHEMA_REGISTRY_URL', 'http://localhost'), { SCHEMA_REGISTRY_URL: 'ftp://app:hunter2@registry/apis' });
    expect(error.problems).toEqual(['SCHEMA_REGISTRY_URL must be an absolute http:// or https:// URL']);
    expect(error.message).not.toContain('hunter2');
  });

  it('reads valid values and reports nothing', () => {
    const reader = environmentReader({ PORT: '8080', FLAG: 'yes', URL: 'http://127.0.0.1:1', DB: 'postgresql://u@db/x', LEVEL: 'warn', HOST: '::', BROKERS: 'a:1, b:2,,c:3' });
    expect([
      reader.integer('PORT', 1, 0, 65535),
      reader.flag('FLAG', false),
      reader.httpUrl('URL', 'http://x'),
      reader.postgresUrl('DB', 'postgres://x'),
      reader.logLevel('LEVEL', 'info'),
      reader.host('HOST', '0.0.0.0'),
      reader.brokers('BROKERS', 'x:1'),
    ]).toEqual([8080, true, 'http://127.0.0.1:1', 'postgresql://u@db/x', 'warn', '::', ['a:1', 'b:2', 'c:3']]);
    expect(() => reader.check()).not.toThrow();
  });

  it('reads an unset variable as its fallback', () => {
    const reader = environmentReader({});
    expect([reader.httpUrl('URL', 'https://registry:8081'), reader.logLevel('LEVEL', 'debug'), reader.host('HOST', 'localhost'), reader.brokers('BROKERS', 'kafka:9092,kafka2:9092')]).toEqual([
      'https://registry:8081',
      'debug',
      'localhost',
      ['kafka:9092', 'kafka2:9092'],
    ]);
    expect(reader.problems).toEqual([]);
  });
});

describe('environment readers: LOG_LEVEL', () => {
  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts pino level %p', (level) => {
    expect(reading((reader) => reader.logLevel('VALUE', 'info'), level)).toEqual({ value: level, problems: [] });
  });

  it.each(['', 'INFO', 'Warn', 'warning', 'verbose', 'off', ' info', '30'])('refuses %p and keeps the fallback', (level) => {
    expect(reading((reader) => reader.logLevel('VALUE', 'info'), level)).toEqual({ value: 'info', problems: [LEVEL_PROBLEM] });
  });
});

describe('environment readers: HOST', () => {
  it.each(['0.0.0.0', '127.0.0.1', '::', '::1', 'fe80::1', 'localhost', 'receiver', 'api.exchange.example', 'api.exchange.example.', 'kafka-1', 'xn--bcher-kva.example', 'compose_receiver_1', 'a'.repeat(63)])(
    'accepts %p',
    (host) => {
      expect(reading((reader) => reader.host('VALUE', '0.0.0.0'), host).problems).toEqual([]);
    },
  );

  it.each([
    ['empty', ''],
    ['a space inside', 'local host'],
    ['a leading space', ' localhost'],
    ['a port', '127.0.0.1:8000'],
    ['a bracketed IPv6 address', '[::1]'],
    ['a URL', 'http://localhost'],
    ['a path', 'localhost/api'],
    ['an IPv4 address out of range', '256.1.1.1'],
    ['an all-digit name', '8000'],
    ['a label starting with a hyphen', '-receiver'],
    ['a label ending with a hyphen', 'receiver-.example'],
    ['an empty label', 'api..example'],
    ['a label over 63 characters', `${'a'.repeat(64)}.example`],
    ['a name over 253 characters', Array.from({ length: 64 }, () => 'abc').join('.')],
  ])('refuses %s', (_name, host) => {
    expect(reading((reader) => reader.host('VALUE', '0.0.0.0'), host).problems).toEqual([HOST_PROBLEM]);
  });
});

describe('environment readers: http(s) URLs', () => {
  it.each(['http://127.0.0.1:8081/apis/ccompat/v7', 'https://registry.example', 'https://user:pass@registry.example:8443/path?x=1', 'HTTP://REGISTRY'])('accepts %p', (url) => {
    expect(reading((reader) => reader.httpUrl('VALUE', 'http://x'), url)).toEqual({ value: url, problems: [] });
  });

  it.each([
    ['empty', ''],
    ['a host without a scheme', 'registry.example:8081'],
    ['a relative path', '/apis/ccompat/v7'],
    ['another scheme', 'ftp://registry.example'],
    ['a postgres URL', 'postgres://db/x'],
    ['a scheme without a host', 'http://'],
  ])('refuses %s', (_name, url) => {
    expect(reading((reader) => reader.httpUrl('VALUE', 'http://x'), url).problems).toEqual([HTTP_PROBLEM]);
  });
});

describe('environment readers: postgres URLs', () => {
  it.each(['postgres://postgres@127.0.0.1:5432/trade_webhooks', 'postgresql://app:pw@db.example/trades?sslmode=require', 'postgres:///trades'])('accepts %p', (url) => {
    expect(reading((reader) => reader.postgresUrl('VALUE', 'postgres://x'), url)).toEqual({ value: url, problems: [] });
  });

  it.each([
    ['empty', ''],
    ['an http URL', 'http://db.example/trades'],
    ['a mysql URL', 'mysql://db.example/trades'],
    ['a connection string without a scheme', 'host=db dbname=trades'],
    ['a space in the host', 'postgres://db host/trades'],
  ])('refuses %s', (_name, url) => {
    expect(reading((reader) => reader.postgresUrl('VALUE', 'postgres://x'), url).problems).toEqual([POSTGRES_PROBLEM]);
  });
});

describe('environment readers: KAFKA_BROKERS', () => {
  it.each([
    ['one broker', '127.0.0.1:9092', ['127.0.0.1:9092']],
    ['a hostname', 'kafka:29092', ['kafka:29092']],
    ['several, with spaces and an empty item', 'kafka-1.example:9092, kafka-2.example:9092,,', ['kafka-1.example:9092', 'kafka-2.example:9092']],
    ['the highest port', 'kafka:65535', ['kafka:65535']],
  ])('accepts %s', (_name, raw, brokers) => {
    expect(reading((reader) => reader.brokers('VALUE', 'x:1'), raw)).toEqual({ value: brokers, problems: [] });
  });

  it.each([
    ['empty', ''],
    ['only commas', ' , ,'],
    ['a broker without a port', 'kafka'],
    ['one of two without a port', 'kafka:9092,kafka2'],
    ['port 0', 'kafka:0'],
    ['a port over 65535', 'kafka:65536'],
    ['a port that is not a number', 'kafka:ninety'],
    ['an empty host', ':9092'],
    ['an IPv6 address, which kafkajs cannot split', '::1:9092'],
    ['a URL', 'PLAINTEXT://kafka:9092'],
    ['a space inside', 'kafka 1:9092'],
  ])('refuses %s', (_name, raw) => {
    expect(reading((reader) => reader.brokers('VALUE', 'x:1'), raw).problems).toEqual([BROKERS_PROBLEM]);
  });
});

/** A file holding `content` in a directory of its own, removed after the tests. */
describe('environment readers: secrets and their _FILE variants', () => {
  it('reads the variable itself when no file is named', () => {
    expect(reading((reader) => reader.secret('VALUE'), SECRET)).toEqual({ value: SECRET, problems: [] });
  });

  it('reads nothing, and reports nothing, when neither is set', () => {
    expect(reading((reader) => reader.secret('VALUE'), undefined)).toEqual({ value: undefined, problems: [] });
  });

  it.each([
    ['no newline', SECRET],
    ['a trailing newline, as echo writes it', `${SECRET}\n`],
    ['a CRLF and a blank line', `${SECRET}\r\n\r\n`],
  ])('reads the content of the file <NAME>_FILE names, with %s, without its trailing newlines', (_name, content) => {
    const reader = environmentReader({ VALUE_FILE: fileHolding(content) });
    expect(reader.secret('VALUE')).toBe(SECRET);
    expect(reader.problems).toEqual([]);
  });

  it('keeps leading and inner whitespace of the file: it may be part of the secret', () => {
    const reader = environmentReader({ VALUE_FILE: fileHolding(` a b\tc \n`) });
    expect(reader.secret('VALUE')).toBe(' a b\tc ');
  });

  it('reads the file when the variable itself is set but empty', () => {
    const reader = environmentReader({ VALUE: '', VALUE_FILE: fileHolding(SECRET) });
    expect(reader.secret('VALUE')).toBe(SECRET);
    expect(reader.problems).toEqual([]);
  });

  it('refuses both set, naming both and printing neither', () => {
    const error = refusal((reader) => reader.secret('KAFKA_SASL_PASSWORD'), { KAFKA_SASL_PASSWORD: SECRET, KAFKA_SASL_PASSWORD_FILE: fileHolding('other-secret-in-file') });
    expect(error.problems).toEqual(['KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: set one of them']);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('other-secret-in-file');
  });

  it('refuses a file that does not exist, naming the variable, the path and the reason', () => {
    const path = join(tmpdir(), `missing-${process.pid}`, 'password');
    const error = refusal((reader) => reader.secret('KAFKA_SASL_PASSWORD'), { KAFKA_SASL_PASSWORD_FILE: path });
    expect(error.problems).toEqual([`KAFKA_SASL_PASSWORD_FILE names ${path}, which cannot be read (ENOENT)`]);
  });

  it('refuses a directory, and never prints a byte of what is beside it', () => {
    const path = fileHolding(SECRET);
    const dir = join(path, '..');
    const error = refusal((reader) => reader.secret('KAFKA_SASL_PASSWORD'), { KAFKA_SASL_PASSWORD_FILE: dir });
    expect(error.problems).toEqual([`KAFKA_SASL_PASSWORD_FILE names ${dir}, which is not a regular file`]);
    expect(error.message).not.toContain(SECRET);
  });

  it('refuses a FIFO at once instead of waiting for a writer, which would block the process', () => {
    const path = join(fileHolding(SECRET), '..', 'fifo');
    execFileSync('mkfifo', [path]);
    const error = refusal((reader) => reader.secret('KAFKA_SASL_PASSWORD'), { KAFKA_SASL_PASSWORD_FILE: path });
    expect(error.problems).toEqual([`KAFKA_SASL_PASSWORD_FILE names ${path}, which is not a regular file`]);
  });

  it('refuses a device, whose reading would never end', () => {
    const error = refusal((reader) => reader.secret('KAFKA_SASL_PASSWORD'), { KAFKA_SASL_PASSWORD_FILE: '/dev/zero' });
    expect(error.problems).toEqual(['KAFKA_SASL_PASSWORD_FILE names /dev/zero, which is not a regular file']);
  });

  it(`reads a file of ${MAX_SECRET_FILE_BYTES} bytes and refuses one byte more, without printing any of it`, () => {
    const fits = 's'.repeat(MAX_SECRET_FILE_BYTES);
    expect(environmentReader({ VALUE_FILE: fileHolding(fits) }).secret('VALUE')).toBe(fits);
    const path = fileHolding(`${fits}s`);
    const error = refusal((reader) => reader.secret('KAFKA_SASL_PASSWORD'), { KAFKA_SASL_PASSWORD_FILE: path });
    expect(error.problems).toEqual([`KAFKA_SASL_PASSWORD_FILE names ${path}, which is larger than ${MAX_SECRET_FILE_BYTES} bytes`]);
    expect(error.message).not.toContain('sss');
  });

  it('reads DATABASE_URL from DATABASE_URL_FILE, and checks it like the variable', () => {
    const good = environmentReader({ DATABASE_URL_FILE: fileHolding('postgres://app:hunter2@db/trades\n') });
    expect(good.postgresUrl('DATABASE_URL', 'postgres://x')).toBe('postgres://app:hunter2@db/trades');
    expect(good.problems).toEqual([]);
    const error = refusal((reader) => reader.postgresUrl('DATABASE_URL', 'postgres://x'), { DATABASE_URL_FILE: fileHolding('mysql://app:hunter2@db/trades') });
    expect(error.problems).toEqual(['DATABASE_URL must be a postgres:// or postgresql:// URL']);
    expect(error.message).not.toContain('hunter2');
  });
});

describe('environment readers: files that must exist', () => {
  it('reads the file a variable names, with its path', () => {
    const path = fileHolding('-----BEGIN CERTIFICATE-----\n');
    const reader = environmentReader({ KAFKA_SSL_CA_FILE: path });
    expect(reader.file('KAFKA_SSL_CA_FILE')).toEqual({ path, content: Buffer.from('-----BEGIN CERTIFICATE-----\n') });
    expect(reader.problems).toEqual([]);
  });

  it.each([undefined, ''])('reads %p as unset', (value) => {
    expect(reading((reader) => reader.file('VALUE'), value)).toEqual({ value: undefined, problems: [] });
  });

  it(`refuses a file larger than ${MAX_NAMED_FILE_BYTES} bytes, and one that is not a regular file`, () => {
    const path = fileHolding(Buffer.alloc(MAX_NAMED_FILE_BYTES + 1, 'c'));
    expect(reading((reader) => reader.file('VALUE'), path)).toEqual({ value: undefined, problems: [`VALUE names ${path}, which is larger than ${MAX_NAMED_FILE_BYTES} bytes`] });
    expect(reading((reader) => reader.file('VALUE'), '/dev/zero')).toEqual({ value: undefined, problems: ['VALUE names /dev/zero, which is not a regular file'] });
  });

  it('refuses a file that cannot be read, naming the variable and the path', () => {
    const path = join(tmpdir(), `missing-${process.pid}`, 'ca.pem');
    expect(reading((reader) => reader.file('VALUE'), path)).toEqual({ value: undefined, problems: [`VALUE names ${path}, which cannot be read (ENOENT)`] });
  });
});

describe('environment readers: choices, optional numbers and text', () => {
  const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

  it.each([
    ['plain', 'plain'],
    ['SCRAM-SHA-512', 'scram-sha-512'],
    [' Scram-Sha-256 ', 'scram-sha-256'],
  ])('reads %p as %p, whatever its case', (raw, value) => {
    expect(reading((reader) => reader.oneOf('VALUE', MECHANISMS), raw)).toEqual({ value, problems: [] });
  });

  it.each([undefined, ''])('reads %p as unset', (raw) => {
    expect(reading((reader) => reader.oneOf('VALUE', MECHANISMS), raw)).toEqual({ value: undefined, problems: [] });
  });

  it('refuses anything else, listing the choices and not the value', () => {
    const error = refusal((reader) => reader.oneOf('KAFKA_SASL_MECHANISM', MECHANISMS), { KAFKA_SASL_MECHANISM: SECRET });
    expect(error.problems).toEqual(['KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512']);
    expect(error.message).not.toContain(SECRET);
  });

  it.each([
    [undefined, undefined, []],
    ['', undefined, []],
    ['3', 3, []],
    ['0', undefined, ['VALUE must be a whole number from 1 to 32767']],
    ['two', undefined, ['VALUE must be a whole number from 1 to 32767']],
  ])('reads the optional number %p as %p', (raw, value, problems) => {
    expect(reading((reader) => reader.optionalInteger('VALUE', 1, 32767), raw)).toEqual({ value, problems });
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    [' alice ', ' alice '],
  ])('reads the optional text %p as %p', (raw, value) => {
    expect(reading((reader) => reader.text('VALUE'), raw)).toEqual({ value, problems: [] });
  });
});

const INTEGER_PROBLEM = 'VALUE must be a whole number from 0 to 65535';
const STRAY_PROBLEM = 'VALUE must not contain control characters or begin or end with whitespace';
const TOPIC_PROBLEM = "VALUE must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not '.' or '..'";
const NON_EMPTY_PROBLEM = 'VALUE must not be empty, contain control characters or begin or end with whitespace';

describe('environment readers: whole numbers', () => {
  it.each([
    ['0', 0],
    ['8080', 8080],
    ['065535', 65535],
  ])('reads %p as %p', (raw, value) => {
    expect(reading((reader) => reader.integer('VALUE', 1, 0, 65535), raw)).toEqual({ value, problems: [] });
  });

  it.each([undefined, ''])('reads %p as unset', (raw) => {
    expect(reading((reader) => reader.integer('VALUE', 1, 0, 65535), raw)).toEqual({ value: 1, problems: [] });
  });

  it.each([
    ['a hexadecimal number', '0x50'],
    ['an exponent', '1e3'],
    ['an octal prefix', '0o17'],
    ['a binary prefix', '0b1'],
    ['a decimal point', '80.0'],
    ['a sign', '+80'],
    ['a negative number', '-1'],
    ['a leading space', ' 80'],
    ['a trailing newline', '80\n'],
    ['only spaces', '  '],
    ['digits of another script', '٨٠'],
    ['a number past the maximum', '65536'],
  ])('refuses %s and keeps the fallback', (_name, raw) => {
    expect(reading((reader) => reader.integer('VALUE', 1, 0, 65535), raw)).toEqual({ value: 1, problems: [INTEGER_PROBLEM] });
  });
});

describe('environment readers: stray characters in URLs and hosts', () => {
  it.each([
    ['a leading space', ' http://127.0.0.1:8081/apis/ccompat/v7'],
    ['a trailing newline', 'http://127.0.0.1:8081/apis/ccompat/v7\n'],
    ['a trailing CRLF', 'http://127.0.0.1:8081/apis/ccompat/v7\r\n'],
    ['a tab inside', 'http://127.0.0.1:80\t81/apis'],
    ['a NUL inside', 'http://127.0.0.1:8081/apis\u0000'],
    ['a C1 control character', 'http://127.0.0.1:8081/\u0085apis'],
    ['a trailing no-break space', 'http://127.0.0.1:8081/apis\u00a0'],
  ])('refuses an http URL with %s, without printing it', (_name, url) => {
    expect(reading((reader) => reader.httpUrl('VALUE', 'http://x'), url).problems).toEqual([STRAY_PROBLEM]);
  });

  it.each([
    ['a leading space', ' postgres://app:hunter2@db/trades'],
    ['a trailing newline', 'postgres://app:hunter2@db/trades\n'],
    ['a tab inside', 'postgres://app:hunter2@db/tra\tdes'],
  ])('refuses a postgres URL with %s, without printing it', (_name, url) => {
    const reader = environmentReader({ VALUE: url });
    reader.postgresUrl('VALUE', 'postgres://x');
    expect(reader.problems).toEqual([STRAY_PROBLEM]);
    expect(reader.problems.join('\n')).not.toContain('hunter2');
  });

  it.each([
    ['a trailing space', 'localhost '],
    ['a trailing newline', '127.0.0.1\n'],
    ['a tab', '0.0.0.0\t'],
    ['a NUL', 'localhost\u0000'],
  ])('refuses a host with %s', (_name, host) => {
    expect(reading((reader) => reader.host('VALUE', '0.0.0.0'), host).problems).toEqual([HOST_PROBLEM]);
  });
});

describe('environment readers: Kafka topic names', () => {
  it.each(['webhook-events', 'webhook-events.dlq', 'a', 'A_b.c-9', '...', '.hidden', 't'.repeat(249)])('accepts %p', (topic) => {
    expect(reading((reader) => reader.topic('VALUE', 'x'), topic)).toEqual({ value: topic, problems: [] });
  });

  it('reads an unset variable as its fallback', () => {
    expect(reading((reader) => reader.topic('VALUE', 'webhook-events'), undefined)).toEqual({ value: 'webhook-events', problems: [] });
  });

  it.each([
    ['empty', ''],
    ['a dot', '.'],
    ['two dots', '..'],
    ['a space', 'webhook events'],
    ['a slash', 'webhook/events'],
    ['a colon', 'webhook:events'],
    ['a letter outside ASCII', 'événements'],
    ['a trailing newline', 'webhook-events\n'],
    ['250 characters', 't'.repeat(250)],
  ])('refuses %s', (_name, topic) => {
    expect(reading((reader) => reader.topic('VALUE', 'x'), topic).problems).toEqual([TOPIC_PROBLEM]);
  });
});

describe('environment readers: names that must not be empty', () => {
  it.each(['trade-webhook-processor', 'group with spaces', 'g'])('accepts %p', (value) => {
    expect(reading((reader) => reader.nonEmpty('VALUE', 'x'), value)).toEqual({ value, problems: [] });
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['a leading space', ' group'],
    ['a trailing newline', 'group\n'],
    ['a control character', 'gr\u0007oup'],
  ])('refuses %s', (_name, value) => {
    expect(reading((reader) => reader.nonEmpty('VALUE', 'x'), value).problems).toEqual([NON_EMPTY_PROBLEM]);
  });
});
