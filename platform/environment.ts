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

export interface EnvironmentReader {
  readonly problems: string[];
  integer(name: string, fallback: number, min: number, max?: number): number;
  flag(name: string, fallback: boolean): boolean;
  list(name: string, fallback: string): string[];
  url(name: string, fallback: string, what: string): string;
  /** Throws a ConfigError listing every problem, if there was any. */
  check(): void;
}

export function environmentReader(env: NodeJS.ProcessEnv): EnvironmentReader {
  const problems: string[] = [];
  return {
    problems,
    integer(name, fallback, min, max = Number.MAX_SAFE_INTEGER) {
      const raw = env[name];
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) {
        problems.push(`${name} must be a whole number from ${min} to ${max}`);
        return fallback;
      }
      return value;
    },
    flag(name, fallback) {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
      problems.push(`${name} must be true or false`);
      return fallback;
    },
    list(name, fallback) {
      const items = (env[name] ?? fallback)
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
      if (items.length === 0) problems.push(`${name} must list at least one value`);
      return items;
    },
    url(name, fallback, what) {
      const value = env[name] ?? fallback;
      try {
        new URL(value);
      } catch {
        problems.push(`${name} must be ${what}`);
      }
      return value;
    },
    check() {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
}
