import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isIP, isIPv4 } from 'node:net';

/**
 * Reading a service's environment: each reader records a problem instead of throwing, so a
 * service's config.ts can report every problem at once. Both services' ConfigError is this one.
 * A problem names the variable and what it must hold, never the value it held: a secret put
 * into the wrong variable, or a URL with a password in it, would otherwise be printed at start.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The longest delay Node's timers take (setTimeout, setInterval, a socket's setTimeout), 2^31-1 ms
 * (about 24.8 days): a longer one is replaced by 1 ms with no more than a warning, so a setting
 * meant as "rarely" would fire back to back. Every *_MS setting that ends up in a timer is bounded by it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** pino's levels; `silent` logs nothing. pino throws on any other name, so it is refused here with the rest. */
export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const);
export type LogLevel = (typeof LOG_LEVELS)[number];

function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/**
 * Labels of letters, digits, hyphens and underscores, 1 to 63 characters, not starting or ending
 * with a hyphen (RFC 1123 §2.1). Underscores are outside that RFC but resolve in Docker's DNS,
 * whose container names hold them.
 */
const HOSTNAME_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/** A DNS name (one trailing dot allowed), at most 253 characters. */
export function isHostname(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // An all-digit last label is a mistyped IPv4 address (999.1.1.1), never a name.
  return labels.every((label) => HOSTNAME_LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/** An address to listen on: an IPv4 or IPv6 address, or a hostname. */
export function isHost(text: string): boolean {
  return isIP(text) !== 0 || isHostname(text);
}

/**
 * A Kafka broker as kafkajs takes it: `host:port`. kafkajs splits the text at its colons, so the
 * host is a hostname or an IPv4 address (an IPv6 address would not reach it).
 */
export function isBrokerAddress(text: string): boolean {
  const colon = text.lastIndexOf(':');
  if (colon === -1) return false;
  const host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  return (isIPv4(host) || isHostname(host)) && /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

/**
 * Kafka's rule for a topic name (Topic.validate): letters, digits, '.', '_' and '-', at most 249
 * characters, and neither '.' nor '..'.
 */
export function isTopicName(text: string): boolean {
  return /^[A-Za-z0-9._-]{1,249}$/.test(text) && text !== '.' && text !== '..';
}

/**
 * Whitespace (Unicode's too) at either end, or a C0 or C1 control character anywhere: what a
 * secrets file, a YAML block or a copy and paste leaves behind. The URL parser would strip or
 * drop them silently, so the value used would not be the one written.
 */
function hasStrayCharacters(text: string): boolean {
  return /^\s|\s$/u.test(text) || /[\u0000-\u001f\u007f-\u009f]/u.test(text);
}

/** Whitespace (Unicode's too) or a C0 or C1 control character anywhere: what a URL or a secret never holds. */
export function hasWhitespaceOrControl(text: string): boolean {
  return /[\s\u0000-\u001f\u007f-\u009f]/u.test(text);
}

/** Whether `text` is an absolute URL with one of `protocols` (each with its colon: `https:`). */
export function hasProtocol(text: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

export const HTTP_PROTOCOLS = Object.freeze(['http:', 'https:']);
const POSTGRES_PROTOCOLS = Object.freeze(['postgres:', 'postgresql:']);
const STRAY_CHARACTERS = 'must not contain control characters or begin or end with whitespace';

/** A secret file's limit: a secret, or a few, is tens of bytes; a URL with a password, hundreds. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;
/** A certificate file's limit: the whole public CA bundle (about 150 roots) is near 220 KiB. */
export const MAX_NAMED_FILE_BYTES = 1024 * 1024;

/** A file an environment variable named, as read at start. */
export interface NamedFile {
  readonly path: string;
  readonly content: Buffer;
}

export interface EnvironmentReader {
  readonly problems: string[];
  /** Plain decimal digits only (no sign, no spaces, no 0x, no exponent), from `min` to `max`. */
  integer(name: string, fallback: number, min: number, max?: number): number;
  /** A whole number from `min` to `max`, or undefined when unset. */
  optionalInteger(name: string, min: number, max: number): number | undefined;
  /** Text as given, or undefined when unset or empty. */
  text(name: string): string | undefined;
  /**
   * A secret: the value of `name`, or the content of the file `<name>_FILE` names (the Docker
   * and Kubernetes secrets convention) if it is a regular file of at most MAX_SECRET_FILE_BYTES,
   * its trailing newlines removed. Undefined when neither is
   * set. Setting both is a problem: which one wins would be a guess.
   */
  secret(name: string): string | undefined;
  /** The file `name` names, read whole if a regular file of at most MAX_NAMED_FILE_BYTES; undefined when unset or empty. */
  file(name: string): NamedFile | undefined;
  /** One of `choices`, compared without regard to case and returned as listed; undefined when unset or empty. */
  oneOf<T extends string>(name: string, choices: readonly T[]): T | undefined;
  flag(name: string, fallback: boolean): boolean;
  /** An absolute http: or https: URL. */
  httpUrl(name: string, fallback: string): string;
  /** A postgres: or postgresql: URL, as node-postgres reads it; also from `<name>_FILE` (it holds a password). */
  postgresUrl(name: string, fallback: string): string;
  /** One of pino's levels (LOG_LEVELS). */
  logLevel(name: string, fallback: LogLevel): LogLevel;
  /** An IP address or a hostname. */
  host(name: string, fallback: string): string;
  /** A Kafka topic name (isTopicName). */
  topic(name: string, fallback: string): string;
  /** Text that names something (a consumer group): not empty, no control characters, no whitespace at either end. */
  nonEmpty(name: string, fallback: string): string;
  /** One or more `host:port`, separated by commas. */
  brokers(name: string, fallback: string): string[];
  /** Throws a ConfigError listing every problem, if there was any. */
  check(): void;
}

/**
 * Numbers, flags, optional text, choices and file names that are set but empty read as unset.
 * Text with a fallback (URLs, hosts, levels, brokers) is taken as given when set, empty included:
 * an empty value there is a mistake to report, not a request for the default.
 */
export function environmentReader(env: NodeJS.ProcessEnv): EnvironmentReader {
  const problems: string[] = [];

  function text(name: string, fallback: string, valid: (value: string) => boolean, what: string): string {
    const value = env[name] ?? fallback;
    if (!valid(value)) problems.push(`${name} must be ${what}`);
    return value;
  }

  /**
   * The file whole, if it is a regular file of at most `maxBytes`. Opened without blocking: a
   * FIFO or a device at the path would otherwise hang the process on the read. The size is
   * capped because the file is read again on every poll of the secret reloader, and one too
   * large for a string would throw. The problem names the variable, the path and the reason
   * (ENOENT, EACCES, not a regular file, too large), never a byte of the file: it may be a key.
   */
  function readNamedFile(name: string, path: string, maxBytes: number): Buffer | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      if (!fstatSync(fd).isFile()) {
        problems.push(`${name} names ${path}, which is not a regular file`);
        return undefined;
      }
      // Up to one byte more than allowed, so a file that grew after fstat is caught too.
      const buffer = Buffer.alloc(maxBytes + 1);
      let length = 0;
      while (length < buffer.length) {
        const read = readSync(fd, buffer, length, buffer.length - length, null);
        if (read === 0) break;
        length += read;
      }
      if (length > maxBytes) {
        problems.push(`${name} names ${path}, which is larger than ${maxBytes} bytes`);
        return undefined;
      }
      return buffer.subarray(0, length);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`${name} names ${path}, which cannot be read (${code})`);
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  function optional(name: string): string | undefined {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  function commaSeparated(name: string, fallback: string): string[] {
    return (env[name] ?? fallback)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }

  function integer(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    // Number() would also take ' 80', '0x50', '1e3' and '0b1': a value that is not what it looks like.
    const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  function secret(name: string): string | undefined {
    const fileVariable = `${name}_FILE`;
    const path = optional(fileVariable);
    if (path === undefined) return env[name];
    if (optional(name) !== undefined) {
      problems.push(`${name} and ${fileVariable} are both set: set one of them`);
      return env[name];
    }
    // A file written by `echo` or an editor ends with a newline that is no part of the secret.
    return readNamedFile(fileVariable, path, MAX_SECRET_FILE_BYTES)?.toString('utf8').replace(/(?:\r?\n)+$/, '');
  }

  return {
    problems,
    integer,
    optionalInteger(name, min, max) {
      const value = integer(name, Number.NaN, min, max);
      return Number.isNaN(value) ? undefined : value;
    },
    text: optional,
    secret,
    file(name) {
      const path = optional(name);
      if (path === undefined) return undefined;
      const content = readNamedFile(name, path, MAX_NAMED_FILE_BYTES);
      return content === undefined ? undefined : Object.freeze({ path, content });
    },
    oneOf(name, choices) {
      const raw = optional(name);
      if (raw === undefined) return undefined;
      const found = choices.find((choice) => choice.toLowerCase() === raw.trim().toLowerCase());
      if (found === undefined) problems.push(`${name} must be one of ${choices.join(', ')}`);
      return found;
    },
    flag(name, fallback) {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
      problems.push(`${name} must be true or false`);
      return fallback;
    },
    httpUrl(name, fallback) {
      const value = env[name] ?? fallback;
      if (hasStrayCharacters(value)) problems.push(`${name} ${STRAY_CHARACTERS}`);
      else if (!hasProtocol(value, HTTP_PROTOCOLS)) problems.push(`${name} must be an absolute http:// or https:// URL`);
      return value;
    },
    postgresUrl(name, fallback) {
      // It holds the database password: it may come from a secret file too.
      const value = secret(name) ?? fallback;
      if (hasStrayCharacters(value)) problems.push(`${name} ${STRAY_CHARACTERS}`);
      else if (!hasProtocol(value, POSTGRES_PROTOCOLS)) problems.push(`${name} must be a postgres:// or postgresql:// URL`);
      return value;
    },
    logLevel(name, fallback) {
      const value = text(name, fallback, isLogLevel, `one of ${LOG_LEVELS.join(', ')}`);
      return isLogLevel(value) ? value : fallback;
    },
    host(name, fallback) {
      return text(name, fallback, isHost, 'an IP address or a hostname');
    },
    topic(name, fallback) {
      return text(name, fallback, isTopicName, "a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and not '.' or '..'");
    },
    nonEmpty(name, fallback) {
      const value = env[name] ?? fallback;
      if (value.trim() === '' || hasStrayCharacters(value)) problems.push(`${name} must not be empty, contain control characters or begin or end with whitespace`);
      return value;
    },
    brokers(name, fallback) {
      const items = commaSeparated(name, fallback);
      if (items.length === 0 || !items.every(isBrokerAddress)) {
        problems.push(`${name} must list one or more brokers as host:port (a hostname or an IPv4 address, a port from 1 to 65535), separated by commas`);
      }
      return items;
    },
    check() {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
}
