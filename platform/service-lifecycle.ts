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

/** SIGTERM or SIGINT arrived while a start-up step was still waiting: the service stops instead of starting. */
export class StartupAborted extends Error {
  override readonly name = 'StartupAborted';
  constructor(what: string) {
    super(`${what} abandoned: the service is shutting down`);
  }
}

/**
 * Retries a start-up step that needs Kafka, the registry or the database, which may come up
 * after the service — while `classify` calls its failure retriable. Any other failure ends the
 * start with a StartupError that names the step and the code: retrying a wrong password or an
 * incompatible schema forever would only hide it. Without `classify`, every failure is retried.
 * Once `signal` is aborted, the step in flight is no longer awaited and no attempt follows: the
 * call rejects with StartupAborted at once, so a stop never waits on a connection timeout.
 */
export async function untilDone<T>(
  what: string,
  step: () => Promise<T>,
  logger: Logger,
  classify: (error: unknown) => StartupFailure = () => ({ code: 'unclassified', retriable: true }),
  signal?: AbortSignal,
): Promise<T> {
  const aborted = new Promise<never>((_, reject) => {
    const abort = (): void => reject(new StartupAborted(what));
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
  // Rejected only on abort, and only ever raced: never an unhandled rejection.
  aborted.catch(() => undefined);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await Promise.race([step(), aborted]);
    } catch (error) {
      if (error instanceof StartupAborted) throw error;
      const { code, retriable } = classify(error);
      if (!retriable) {
        throw new StartupError(`${what} failed (${code}), and retrying cannot fix it: ${error instanceof Error ? error.message : String(error)}`, code, { cause: error });
      }
      logger.warn({ err: error, step: what, attempt, code }, 'Start-up step failed; retrying');
      await Promise.race([sleep(Math.min(5000, 250 * 2 ** attempt)), aborted]);
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

/** What a service closes when it is told to stop, and how its start-up learns that it should give up. */
export interface Shutdown {
  /** Aborted at the first SIGTERM or SIGINT: hand it to every untilDone of the start-up. */
  readonly signal: AbortSignal;
  /** Closes `close` on shutdown; the last one registered closes first, as what was opened later depends on what came before. */
  onShutdown(close: () => Promise<void>): void;
}

/**
 * Handles SIGTERM and SIGINT from the moment it is called, so that a service still waiting
 * for Kafka, the registry or the database stops when told to rather than when killed. The first
 * signal aborts `signal`, closes what was registered (in reverse order), then exits 0 (1 if
 * closing failed) after the asynchronous log lines are flushed; a second signal is ignored.
 * `name` is the `service` field of the last line.
 */
export function stopOnSignals(logger: Logger, name: string): Shutdown {
  const controller = new AbortController();
  const closers: Array<() => Promise<void>> = [];
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    controller.abort();
    logger.info({ signal }, 'Shutting down: finishing the work under way');
    (async () => {
      for (const close of closers.reverse()) await close();
    })().then(
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
  return {
    signal: controller.signal,
    onShutdown: (close) => void closers.push(close),
  };
}
