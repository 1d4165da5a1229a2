import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { RetentionConfig } from './config';
import { runRetention } from './retention';

export interface RetentionSchedule {
  /** Runs the job every `intervalMs`, the first run one interval from now. */
  start(): void;
  /** Cancels the next run and ends the one under way after its batch; resolves when it has. */
  stop(): Promise<void>;
}

/**
 * The retention job inside the processor. A run starts `intervalMs` after the previous one
 * ended, so runs never overlap; several instances may each run it, since a batch skips the
 * rows another holds. A failed run (the database away) is logged and the next one tries again:
 * retention is housekeeping, and must not stop the processor.
 */
export function createRetentionSchedule(options: { db: Knex; retention: RetentionConfig; logger: Logger; deletedRows: Counter<'table'> }): RetentionSchedule {
  const { db, retention, logger, deletedRows } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runRetention({ db, policy: retention, logger, deletedRows, shouldStop: () => stopped }).then(
        () => undefined,
        (error: unknown) => logger.error({ err: error }, 'Retention run failed; the next run will try again'),
      );
      void running.then(schedule);
    }, retention.intervalMs);
    // A pending run does not keep the process alive.
    timer.unref();
  };

  return {
    start() {
      if (timer === undefined && !stopped) schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
