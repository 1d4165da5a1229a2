import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, readReceiverConfig } from '../../receiver/config';
import { eventBytesBound, largestBodyFor } from '../../receiver/event-size';
import { fileHolding } from '../support/environment';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';

const valid = { ...TEST_SECRETS, RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL };

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    readReceiverConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}

/** A whsec_ secret of `bytes` random-looking bytes, in standard padded base64. */
const whsec = (bytes: number) => `whsec_${Buffer.alloc(bytes, 0xa7).toString('base64')}`;

describe('receiver configuration', () => {
  it('names every missing secret variable and the callback URL in one error', () => {
    expect(problemsOf({ BUY_WEBHOOK_SECRET: TEST_SECRETS.BUY_WEBHOOK_SECRET })).toEqual([
      'SELL_WEBHOOK_SECRET is required (the secret of the sell-complete webhook)',
      'TRADE_WEBHOOK_SECRET is required (the secret of the trade-status webhook)',
      'RELWORX_WEBHOOK_SECRET is required (the secret of the relworx webhook)',
      'RELWORX_CALLBACK_URL is required (the callback URL registered with Relworx, exactly as registered: its signatures cover it)',
    ]);
  });

  it('reports bad numbers together with missing secrets', () => {
    expect(() => readReceiverConfig({ PORT: 'eighty', MAX_BODY_BYTES: '-1' })).toThrow(/BUY_WEBHOOK_SECRET is required[\s\S]*PORT must be a whole number[\s\S]*MAX_BODY_BYTES must be/);
  });

  it('reports OpenTelemetry problems with the others, and its warnings among the warnings', () => {
    expect(problemsOf({ ...valid, PORT: 'eighty', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual([
      'OTEL_TRACES_EXPORTER must be otlp or none',
      'PORT must be a whole number from 0 to 65535',
    ]);
    expect(readReceiverConfig({ ...valid, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).warnings).toContain(
      'OTEL_EXPORTER_OTLP_PROTOCOL is http/protobuf: spans are exported as http/json, which OTLP/HTTP receivers also accept',
    );
  });

  it('holds Relworx callbacks to 8 KiB by default, never more than MAX_BODY_BYTES', () => {
    expect(readReceiverConfig(valid).relworxMaxBodyBytes).toBe(8192);
    expect(readReceiverConfig({ ...valid, MAX_BODY_BYTES: '4096' }).relworxMaxBodyBytes).toBe(4096);
    expect(problemsOf({ ...valid, MAX_BODY_BYTES: '4096', RELWORX_MAX_BODY_BYTES: '8192' })).toEqual([expect.stringMatching(/^RELWORX_MAX_BODY_BYTES must be a whole number from 1 to 4096/)]);
  });

  it('warns about secrets shorter than 32 bytes without refusing them, naming the variable and the position', () => {
    const config = readReceiverConfig({ ...valid, SELL_WEBHOOK_SECRET: `${TEST_SECRETS.SELL_WEBHOOK_SECRET},short` });
    expect(config.warnings).toEqual(['SELL_WEBHOOK_SECRET: secret 2 of its 2 is shorter than 32 bytes']);
  });

  it.each([
    ['a newline', 'next-buy-secret-0123456789abcdef0123\nbuy-secret-for-tests-0123456789abcdef'],
    ['a space', 'next-buy-secret 0123456789abcdef0123'],
    ['a tab', 'next-buy-secret\t0123456789abcdef0123'],
    ['a control character', 'next-buy-secret\u00000123456789abcdef0123'],
  ])('refuses a secret with %s inside, without printing it', (_name, secret) => {
    const problems = problemsOf({ ...valid, BUY_WEBHOOK_SECRET: `${secret},${TEST_SECRETS.BUY_WEBHOOK_SECRET}` });
    expect(problems).toEqual(['BUY_WEBHOOK_SECRET: secret 1 of its 2 contains whitespace or a control character (separate secrets with commas, not lines)']);
  });

  it('reads secret files for a change every second unless SECRET_FILES_POLL_MS says otherwise (0: on SIGHUP only)', () => {
    expect(readReceiverConfig(valid).secretFilesPollMs).toBe(1000);
    expect(readReceiverConfig({ ...valid, SECRET_FILES_POLL_MS: '0' }).secretFilesPollMs).toBe(0);
    expect(problemsOf({ ...valid, SECRET_FILES_POLL_MS: '-5' })).toEqual([expect.stringMatching(/^SECRET_FILES_POLL_MS must be a whole number from 0 to/)]);
  });

  // Node replaces a timer's delay over 2^31-1 ms by 1 ms: a keep-alive or shutdown grace that long would end at once.
  it('refuses a timeout or grace longer than a timer can wait', () => {
    const tooLong = { SHUTDOWN_GRACE_MS: '2147483648', HEADERS_TIMEOUT_MS: '2147483648', REQUEST_TIMEOUT_MS: '2147483648', KEEP_ALIVE_TIMEOUT_MS: '2147483648' };
    expect(problemsOf({ ...valid, ...tooLong })).toEqual([
      'SHUTDOWN_GRACE_MS must be a whole number from 0 to 2147483647',
      'HEADERS_TIMEOUT_MS must be a whole number from 100 to 2147483647',
      'REQUEST_TIMEOUT_MS must be a whole number from 100 to 2147483647',
      'KEEP_ALIVE_TIMEOUT_MS must be a whole number from 0 to 2147483647',
    ]);
    const longest = { SHUTDOWN_GRACE_MS: '2147483647', HEADERS_TIMEOUT_MS: '2147483647', REQUEST_TIMEOUT_MS: '2147483647', KEEP_ALIVE_TIMEOUT_MS: '2147483647' };
    expect(readReceiverConfig({ ...valid, ...longest }).keepAliveTimeoutMs).toBe(2_147_483_647);
  });

  it('splits comma-separated secrets for rotation and freezes the result', () => {
    const config = readReceiverConfig({ ...valid, BUY_WEBHOOK_SECRET: `${TEST_SECRETS.BUY_WEBHOOK_SECRET}, next-buy-secret-0123456789abcdef0123` });
    expect(config.secrets.buy_completion).toEqual([TEST_SECRETS.BUY_WEBHOOK_SECRET, 'next-buy-secret-0123456789abcdef0123']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.port).toBe(8000);
    expect(config.maxBodyBytes).toBe(65536);
  });
});

describe('receiver configuration: whsec_ secrets', () => {
  it('refuses a whsec_ secret that is not valid base64, naming the variable and never the value', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-aSw';
    const problems = problemsOf({ ...valid, TRADE_WEBHOOK_SECRET: secret });
    expect(problems).toEqual(['TRADE_WEBHOOK_SECRET: its secret has the whsec prefix but is not valid base64 (standard alphabet, padded to a multiple of 4)']);
    expect(problems.join('\n')).not.toContain(secret.slice('whsec_'.length));
  });

  it('refuses a whsec_ secret that decodes to fewer than 24 bytes, naming the variable and never the value', () => {
    const secret = whsec(23);
    const problems = problemsOf({ ...valid, BUY_WEBHOOK_SECRET: secret });
    expect(problems).toEqual(['BUY_WEBHOOK_SECRET: its secret has the whsec prefix but decodes to fewer than 24 bytes']);
    expect(problems.join('\n')).not.toContain(secret.slice('whsec_'.length));
  });

  it('names which rotated secret is unusable and lists every problem together', () => {
    const problems = problemsOf({
      ...valid,
      BUY_WEBHOOK_SECRET: `${whsec(32)},whsec_QUJDRA`,
      RELWORX_WEBHOOK_SECRET: whsec(8),
      RELWORX_CALLBACK_URL: '',
    });
    expect(problems).toEqual([
      'BUY_WEBHOOK_SECRET: secret 2 of its 2 has the whsec prefix but is not valid base64 (standard alphabet, padded to a multiple of 4)',
      'RELWORX_WEBHOOK_SECRET: its secret has the whsec prefix but decodes to fewer than 24 bytes',
      'RELWORX_CALLBACK_URL is required (the callback URL registered with Relworx, exactly as registered: its signatures cover it)',
    ]);
  });

  it('accepts a whsec_ secret of 24 bytes without warning that its text is short', () => {
    const config = readReceiverConfig({ ...valid, SELL_WEBHOOK_SECRET: whsec(24) });
    expect(config.secrets.sell_completion).toEqual([whsec(24)]);
    expect(config.warnings).toEqual([]);
  });
});

describe('receiver configuration: RELWORX_CALLBACK_URL', () => {
  it.each([
    ['a relative path', '/api/webhooks/relworx'],
    ['another scheme', 'ftp://exchange.example/relworx'],
    ['a host without a scheme', 'exchange.example/api/webhooks/relworx'],
  ])('refuses %s', (_name, url) => {
    expect(problemsOf({ ...valid, RELWORX_CALLBACK_URL: url })).toEqual([
      'RELWORX_CALLBACK_URL must be an absolute http(s) URL (the callback URL registered with Relworx)',
    ]);
  });

  it('never prints a secret put into RELWORX_CALLBACK_URL by mistake', () => {
    const secret = 'S3CR3T-relworx-value-0123456789abcdef';
    let message = '';
    try {
      readReceiverConfig({ ...valid, RELWORX_CALLBACK_URL: secret, RELWORX_WEBHOOK_SECRET: TEST_RELWORX_CALLBACK_URL });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as ConfigError).message;
    }
    expect(message).toContain('RELWORX_CALLBACK_URL must be an absolute http(s) URL');
    expect(message).not.toContain(secret);
    expect(message).not.toContain('S3CR3T');
  });

  it.each([
    ['a trailing newline', `${TEST_RELWORX_CALLBACK_URL}\n`],
    ['a trailing carriage return and newline', `${TEST_RELWORX_CALLBACK_URL}\r\n`],
    ['a leading space', ` ${TEST_RELWORX_CALLBACK_URL}`],
    ['a trailing tab', `${TEST_RELWORX_CALLBACK_URL}\t`],
    ['a trailing no-break space', `${TEST_RELWORX_CALLBACK_URL}\u00a0`],
    ['a tab inside', TEST_RELWORX_CALLBACK_URL.replace('/webhooks', '/\twebhooks')],
    ['a NUL inside', TEST_RELWORX_CALLBACK_URL.replace('/webhooks', '/\u0000webhooks')],
    ['a DEL at the end', `${TEST_RELWORX_CALLBACK_URL}\u007f`],
  ])('refuses a URL with %s, which every genuine signature would then miss, naming the variable and not the value', (_name, url) => {
    const problems = problemsOf({ ...valid, RELWORX_CALLBACK_URL: url });
    expect(problems).toEqual([
      'RELWORX_CALLBACK_URL must not contain whitespace or control characters (Relworx signs the URL exactly as registered, which has none)',
    ]);
    expect(problems.join('\n')).not.toContain('exchange.example');
  });

  it('keeps the URL exactly as given, since the signatures cover its text', () => {
    const url = 'https://Exchange.example:8443/api/v1/webhooks/relworx?x=1';
    expect(readReceiverConfig({ ...valid, RELWORX_CALLBACK_URL: url }).relworxCallbackUrl).toBe(url);
  });
});

describe('receiver configuration: forwarding and rate limits', () => {
  it.each([
    [undefined, 0],
    ['', 0],
    ['false', 0],
    ['true', 1],
    ['TRUE', 1],
    ['0', 0],
    ['1', 1],
    ['3', 3],
  ])('reads TRUST_PROXY=%p as %d trusted proxies', (value, proxies) => {
    expect(readReceiverConfig({ ...valid, TRUST_PROXY: value }).trustedProxies).toBe(proxies);
  });

  it.each(['yes', '-1', '1.5', 'two', '1,2'])('refuses TRUST_PROXY=%p', (value) => {
    expect(problemsOf({ ...valid, TRUST_PROXY: value })).toEqual(['TRUST_PROXY must be false, true or the number of trusted proxies in front of the receiver']);
  });

  it('bounds the per-client table at 100,000 clients unless RATE_LIMIT_MAX_CLIENTS says otherwise', () => {
    expect(readReceiverConfig(valid).rateLimitMaxClients).toBe(100_000);
    expect(readReceiverConfig({ ...valid, RATE_LIMIT_MAX_CLIENTS: '500' }).rateLimitMaxClients).toBe(500);
    expect(problemsOf({ ...valid, RATE_LIMIT_MAX_CLIENTS: '0' })).toEqual(['RATE_LIMIT_MAX_CLIENTS must be a whole number from 1 to 10000000']);
  });
});

describe('receiver configuration: batch size in bytes', () => {
  it('caps a produce request at 900 KiB by default, under Kafka default 1 MiB batch limit', () => {
    expect(readReceiverConfig(valid).batchMaxBytes).toBe(900 * 1024);
    expect(readReceiverConfig({ ...valid, PUBLISH_BATCH_MAX_BYTES: '2000000', MAX_BODY_BYTES: '900000' }).batchMaxBytes).toBe(2_000_000);
  });

  it('refuses a MAX_BODY_BYTES whose events could not fit in one batch, stating the largest that fits', () => {
    expect(readReceiverConfig({ ...valid, MAX_BODY_BYTES: String(largestBodyFor(900 * 1024)) }).maxBodyBytes).toBe(largestBodyFor(900 * 1024));
    expect(problemsOf({ ...valid, MAX_BODY_BYTES: String(largestBodyFor(900 * 1024) + 1) })).toEqual([
      `MAX_BODY_BYTES must be at most ${largestBodyFor(900 * 1024)} while PUBLISH_BATCH_MAX_BYTES is 921600: ` +
        `the event of a body that large (up to twice its size plus ${eventBytesBound(0)} bytes) must fit in one batch`,
    ]);
    expect(problemsOf({ ...valid, PUBLISH_BATCH_MAX_BYTES: '100000' })).toEqual([
      `MAX_BODY_BYTES must be at most ${largestBodyFor(100_000)} while PUBLISH_BATCH_MAX_BYTES is 100000: ` +
        `the event of a body that large (up to twice its size plus ${eventBytesBound(0)} bytes) must fit in one batch`,
    ]);
  });
});

describe('receiver configuration: addresses and log level', () => {
  it.each([
    ['HOST', 'local host', 'HOST must be an IP address or a hostname'],
    ['HOST', '127.0.0.1:8000', 'HOST must be an IP address or a hostname'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    ['LOG_LEVEL', 'INFO', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    ['SCHEMA_REGISTRY_URL', 'registry:8081/apis/ccompat/v7', 'SCHEMA_REGISTRY_URL must be an absolute http:// or https:// URL'],
    ['SCHEMA_REGISTRY_URL', '', 'SCHEMA_REGISTRY_URL must be an absolute http:// or https:// URL'],
    ['KAFKA_BROKERS', 'kafka', 'KAFKA_BROKERS must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas'],
    ['KAFKA_BROKERS', 'kafka:9092,kafka:0', 'KAFKA_BROKERS must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas'],
  ])('refuses %s=%p, naming the variable', (variable, value, problem) => {
    expect(problemsOf({ ...valid, [variable]: value })).toEqual([problem]);
  });

  it('reports every address problem together', () => {
    expect(problemsOf({ ...valid, HOST: '', LOG_LEVEL: 'loud', SCHEMA_REGISTRY_URL: 'ftp://registry', KAFKA_BROKERS: '' })).toEqual([
      'HOST must be an IP address or a hostname',
      'KAFKA_BROKERS must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas',
      'SCHEMA_REGISTRY_URL must be an absolute http:// or https:// URL',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('reads valid addresses and log level as given', () => {
    const config = readReceiverConfig({ ...valid, HOST: '::', LOG_LEVEL: 'silent', SCHEMA_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7', KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092' });
    expect(config).toEqual(
      expect.objectContaining({ host: '::', logLevel: 'silent', schemaRegistryUrl: 'https://registry.example/apis/ccompat/v7', kafkaBrokers: ['kafka-1:9092', 'kafka-2:9092'] }),
    );
  });
});

describe('receiver configuration: secrets from files', () => {
  it('reads each webhook secret from its _FILE, trailing newline removed, rotation lists included', () => {
    const next = 'next-sell-secret-0123456789abcdef0123';
    const config = readReceiverConfig({
      ...valid,
      BUY_WEBHOOK_SECRET: undefined,
      SELL_WEBHOOK_SECRET: undefined,
      BUY_WEBHOOK_SECRET_FILE: fileHolding(`${TEST_SECRETS.BUY_WEBHOOK_SECRET}\n`),
      SELL_WEBHOOK_SECRET_FILE: fileHolding(`${TEST_SECRETS.SELL_WEBHOOK_SECRET},${next}\n`),
    });
    expect(config.secrets.buy_completion).toEqual([TEST_SECRETS.BUY_WEBHOOK_SECRET]);
    expect(config.secrets.sell_completion).toEqual([TEST_SECRETS.SELL_WEBHOOK_SECRET, next]);
  });

  it('refuses a _FILE holding one secret per line: it would be one secret with a newline in it', () => {
    const problems = problemsOf({ ...valid, TRADE_WEBHOOK_SECRET: undefined, TRADE_WEBHOOK_SECRET_FILE: fileHolding(`next-trade-secret-0123456789abcdef0123\n${TEST_SECRETS.TRADE_WEBHOOK_SECRET}\n`) });
    expect(problems).toEqual(['TRADE_WEBHOOK_SECRET: its secret contains whitespace or a control character (separate secrets with commas, not lines)']);
  });

  it('refuses a secret set both ways, or a file it cannot read, once each and without the secret', () => {
    const missing = join(tmpdir(), `missing-${process.pid}`, 'trade-secret');
    const problems = problemsOf({ ...valid, BUY_WEBHOOK_SECRET_FILE: fileHolding('file-secret-0123456789abcdef0123456789'), TRADE_WEBHOOK_SECRET: undefined, TRADE_WEBHOOK_SECRET_FILE: missing });
    expect(problems).toEqual([
      'BUY_WEBHOOK_SECRET and BUY_WEBHOOK_SECRET_FILE are both set: set one of them',
      `TRADE_WEBHOOK_SECRET_FILE names ${missing}, which cannot be read (ENOENT)`,
    ]);
    expect(problems.join('\n')).not.toContain(TEST_SECRETS.BUY_WEBHOOK_SECRET);
    expect(problems.join('\n')).not.toContain('file-secret');
  });

  it('calls a secret file that holds nothing missing', () => {
    expect(problemsOf({ ...valid, RELWORX_WEBHOOK_SECRET: undefined, RELWORX_WEBHOOK_SECRET_FILE: fileHolding('\n') })).toEqual(['RELWORX_WEBHOOK_SECRET is required (the secret of the relworx webhook)']);
  });
});

describe('receiver configuration: reaching Kafka and the registry', () => {
  it('reads TLS, SASL, the registry’s credentials and the topic replication into one description each', () => {
    const config = readReceiverConfig({
      ...valid,
      KAFKA_BROKERS: 'b-1.kafka.example:9096',
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'webhooks',
      KAFKA_SASL_PASSWORD: 'kafka-password',
      SCHEMA_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7',
      SCHEMA_REGISTRY_USERNAME: 'webhooks',
      SCHEMA_REGISTRY_PASSWORD: 'registry-password',
      TOPIC_REPLICATION_FACTOR: '3',
      TOPIC_MIN_INSYNC_REPLICAS: '2',
    });
    expect(config).toEqual(
      expect.objectContaining({
        kafka: { brokers: ['b-1.kafka.example:9096'], ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'webhooks', password: 'kafka-password' } },
        registry: { url: 'https://registry.example/apis/ccompat/v7', auth: { username: 'webhooks', password: 'registry-password' } },
        kafkaBrokers: ['b-1.kafka.example:9096'],
        schemaRegistryUrl: 'https://registry.example/apis/ccompat/v7',
        topicReplication: { replicationFactor: 3, minInsyncReplicas: 2 },
      }),
    );
  });

  it('reports connection problems with the others', () => {
    expect(problemsOf({ ...valid, PORT: 'eighty', KAFKA_SASL_MECHANISM: 'kerberos', SCHEMA_REGISTRY_USERNAME: 'webhooks', TOPIC_MIN_INSYNC_REPLICAS: '3', TOPIC_REPLICATION_FACTOR: '2' })).toEqual([
      'PORT must be a whole number from 0 to 65535',
      'KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512',
      'KAFKA_SASL_USERNAME must be set when KAFKA_SASL_MECHANISM is',
      'KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) must be set and not empty when KAFKA_SASL_MECHANISM is',
      'SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE) go together: set both or neither',
      'TOPIC_MIN_INSYNC_REPLICAS must not exceed TOPIC_REPLICATION_FACTOR: a topic with fewer copies than must be in sync refuses every write',
    ]);
  });
});

describe('receiver configuration: values that are not what they look like', () => {
  /** Looks like a secret pasted into the wrong variable: no problem may print it. */
  const PASTED = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  it.each([
    ['PORT', '0x50', 'PORT must be a whole number from 0 to 65535'],
    ['PORT', '1e3', 'PORT must be a whole number from 0 to 65535'],
    ['PORT', ' 80', 'PORT must be a whole number from 0 to 65535'],
    ['MAX_BODY_BYTES', '64e3', 'MAX_BODY_BYTES must be a whole number from 1 to 16777216'],
    ['HOST', '0.0.0.0\n', 'HOST must be an IP address or a hostname'],
    ['SCHEMA_REGISTRY_URL', ' http://127.0.0.1:8081/apis/ccompat/v7', 'SCHEMA_REGISTRY_URL must not contain control characters or begin or end with whitespace'],
    ['SCHEMA_REGISTRY_URL', 'http://127.0.0.1:8081/apis/ccompat/v7\n', 'SCHEMA_REGISTRY_URL must not contain control characters or begin or end with whitespace'],
    ['SCHEMA_REGISTRY_URL', 'http://127.0.0.1:80\t81/apis', 'SCHEMA_REGISTRY_URL must not contain control characters or begin or end with whitespace'],
    ['WEBHOOK_EVENTS_TOPIC', '', "WEBHOOK_EVENTS_TOPIC must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not '.' or '..'"],
    ['WEBHOOK_EVENTS_TOPIC', 'bad topic/with spaces', "WEBHOOK_EVENTS_TOPIC must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not '.' or '..'"],
    ['WEBHOOK_EVENTS_TOPIC', '..', "WEBHOOK_EVENTS_TOPIC must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not '.' or '..'"],
    ['WEBHOOK_EVENTS_TOPIC', PASTED.replace('_', ' '), "WEBHOOK_EVENTS_TOPIC must be a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not '.' or '..'"],
  ])('refuses %s=%p, naming the variable and not the value', (variable, value, problem) => {
    const problems = problemsOf({ ...valid, [variable]: value });
    expect(problems).toEqual([problem]);
    if (value.trim().length > 3) expect(problems.join('\n')).not.toContain(value.trim());
  });
});
