import { ConfigError, environmentReader, type EnvironmentReader } from '../../platform/environment';

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
