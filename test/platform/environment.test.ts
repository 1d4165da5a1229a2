import { ConfigError, environmentReader } from '../../platform/environment';

/** A value that looks like a secret someone put into the wrong variable. */
const SECRET = 'S3CR3T-relworx-value-0123456789abcdef';

function refusal(read: (reader: ReturnType<typeof environmentReader>) => void, env: NodeJS.ProcessEnv): ConfigError {
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

describe('environment readers', () => {
  it.each([
    ['a whole number', (reader: ReturnType<typeof environmentReader>) => reader.integer('PORT', 8000, 0, 65535), 'PORT must be a whole number from 0 to 65535'],
    ['a flag', (reader: ReturnType<typeof environmentReader>) => reader.flag('PORT', true), 'PORT must be true or false'],
    ['a URL', (reader: ReturnType<typeof environmentReader>) => reader.url('PORT', 'http://127.0.0.1', 'an http:// URL'), 'PORT must be an http:// URL'],
  ])('names the variable that should hold %s and never prints the value it held', (_name, read, problem) => {
    const error = refusal(read, { PORT: SECRET });
    expect(error.problems).toEqual([problem]);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(SECRET.slice(0, 8));
  });

  it('keeps a URL with credentials out of the message when it does not parse', () => {
    const error = refusal((reader) => reader.url('DATABASE_URL', 'postgres://localhost/db', 'a postgres:// URL'), { DATABASE_URL: 'postgres://app:hunter2@db host/trades' });
    expect(error.problems).toEqual(['DATABASE_URL must be a postgres:// URL']);
    expect(error.message).not.toContain('hunter2');
  });

  it('reads valid values and reports nothing', () => {
    const reader = environmentReader({ PORT: '8080', FLAG: 'yes', URL: 'http://127.0.0.1:1', LIST: 'a, b,,c' });
    expect([reader.integer('PORT', 1, 0, 65535), reader.flag('FLAG', false), reader.url('URL', 'http://x', 'a URL'), reader.list('LIST', '')]).toEqual([8080, true, 'http://127.0.0.1:1', ['a', 'b', 'c']]);
    expect(() => reader.check()).not.toThrow();
  });
});
