import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { environmentReader } from '../platform/environment';
import { SECRET_VARIABLES } from '../platform/secret-variables';
import { readWebhookSecrets, secretCounts, shortNewSecretProblems, type WebhookSecrets } from './webhook-secrets';

/** What made the receiver read its secrets again. */
export type ReloadTrigger = 'SIGHUP' | 'file_change';

export interface SecretReloader {
  /** The secrets in force: read per request, so a reload applies to the next one. */
  current(): WebhookSecrets;
  /**
   * Reads the four secrets again and takes them all, or none: while any of them is bad (empty,
   * a `whsec_` secret that is no key, a new one that is short, a file that cannot be read), the
   * set in force stays, and the refusal is logged. True when the new set was taken.
   */
  reload(trigger: ReloadTrigger): boolean;
  /** Polls the `<NAME>_FILE` files, if any is set, and reloads when what they hold changes. */
  start(): void;
  stop(): void;
}

interface Reading {
  readonly secrets: WebhookSecrets;
  readonly problems: readonly string[];
}

/** A digest of a reading, so what was last read is compared without keeping another copy of the secrets. */
function fingerprint(reading: Reading): string {
  return createHash('sha256').update(JSON.stringify(reading)).digest('hex');
}

/**
 * Secrets replaced without a restart. A variable's value cannot change under a running process,
 * but the file its `_FILE` names can: Kubernetes replaces a mounted secret by swapping a symlink
 * (`..data`), which a watch on the file itself would miss. So the files are read again every
 * `pollMs` (four small reads; 0: never) and compared by content, which sees every way a file
 * can change. A reading that was refused is not refused again, and logged again, every poll: only a change
 * to what the files hold, or a SIGHUP, reads them anew.
 */
export function createSecretReloader(options: { env: NodeJS.ProcessEnv; initial: WebhookSecrets; logger: Logger; pollMs: number }): SecretReloader {
  const { env, logger, pollMs } = options;
  let secrets = options.initial;
  let lastRead = fingerprint({ secrets, problems: [] });
  let timer: NodeJS.Timeout | undefined;

  function read(): Reading {
    const reader = environmentReader(env);
    const next = readWebhookSecrets(reader);
    return { secrets: next, problems: reader.problems };
  }

  function take(reading: Reading, trigger: ReloadTrigger): boolean {
    lastRead = fingerprint(reading);
    const problems = [...reading.problems, ...shortNewSecretProblems(reading.secrets, secrets)];
    if (problems.length > 0) {
      logger.error({ trigger, problems }, 'Refused the new webhook secrets; the ones in force stay');
      return false;
    }
    secrets = reading.secrets;
    logger.info({ trigger, secret_counts: secretCounts(secrets) }, 'Webhook secrets reloaded');
    return true;
  }

  function poll(): void {
    const reading = read();
    if (fingerprint(reading) !== lastRead) take(reading, 'file_change');
  }

  return {
    current: () => secrets,
    reload: (trigger) => take(read(), trigger),
    start() {
      const watched = Object.values(SECRET_VARIABLES).some((variable) => Boolean(env[`${variable}_FILE`]));
      if (!watched || pollMs === 0 || timer) return;
      timer = setInterval(poll, pollMs);
      // The poll never keeps the process alive on its own.
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
