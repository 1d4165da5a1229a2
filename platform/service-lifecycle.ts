import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConfigError } from './environment';

/** How a start-up step's failure is judged: a stable code, and whether waiting can fix it. */
export interface StartupFailure {
  readonly code: string;
  readonly retriable: boolean;
}

/** A start-up step failed in a way that retrying cannot fix (credentials, an incompatible schema, configuration). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly code: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Retries a start-up step that needs Kafka, the registry or the database, which may come up
 * after the service — while `classify` calls its failure retriable. Any other failure ends the
 * start with a StartupError that names the step and the code: retrying a wrong password or an
 * incompatible schema forever would only hide it. Without `classify`, every failure is retried.
 */
export async function untilDone<T>(
  what: string,
  step: () => Promise<T>,
  logger: Logger,
  classify: (error: unknown) => StartupFailure = () => ({ code: 'unclassified', retriable: true }),
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      const { code, retriable } = classify(error);
      if (!retriable) {
        throw new StartupError(`${what} failed (${code}), and retrying cannot fix it: ${error instanceof Error ? error.message : String(error)}`, code, { cause: error });
      }
      logger.warn({ err: error, step: what, attempt, code }, 'Start-up step failed; retrying');
      await sleep(Math.min(5000, 250 * 2 ** attempt));
    }
  }
}

/** The configuration, or exit 2 with every problem listed. */
export function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

/**
 * SIGTERM and SIGINT run `stop` once, then exit 0 (1 if stopping failed) after the
 * asynchronous log lines are flushed. `name` is the `service` field of the last line.
 */
export function stopOnSignals(logger: Logger, name: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down: finishing the work under way');
    stop().then(
      () => {
        logger.info({ service: name }, 'Service stopped');
        logger.flush(() => process.exit(0));
      },
      (error: Error) => {
        logger.error({ err: error }, 'Shutdown failed');
        logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
