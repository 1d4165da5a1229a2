import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { environmentReader } from '../platform/environment';
import { SECRET_VARIABLES } from '../platform/secret-variables';
import { WEBHOOKS } from '../schemas/webhook-catalog';
import type { ReceiverMetrics } from './metrics';
import { readWebhookSecrets, secretCounts, shortSecretWarnings, type WebhookSecrets } from './webhook-secrets';

/** What made the receiver read its secrets again. */
export type ReloadTrigger = 'SIGHUP' | 'file_change';

export interface SecretReloader {
  /** The secrets in force: read per request, so a reload applies to the next one. */
  current(): WebhookSecrets;
  /**
   * Reads the four secrets again and takes them all, or none: while any of them is bad (empty,
   * with whitespace in it, a `whsec_` secret that is no key, a file that cannot be read), the set
   * in force stays, and the refusal is logged and counted. A short secret is taken with a warning,
   * as at start. Never throws. True when the new set was taken.
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

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((secret, index) => secret === b[index]);
}

/**
 * Secrets replaced without a restart. A variable's value cannot change under a running process,
 * but the file its `_FILE` names can: Kubernetes replaces a mounted secret by swapping a symlink
 * (`..data`), which a watch on the file itself would miss. So the files are read again every
 * `pollMs` (four small reads; 0: never) and compared by content, which sees every way a file
 * can change. A changed content is taken once two polls in a row read it alike: a file written
 * in place can be caught half-written (a secret cut short, `new,` without the old one), while
 * the symlink swap is atomic and only waits one poll more. SIGHUP takes what it reads at once:
 * the operator sent it when the files were ready. A reading that was refused is not refused
 * again, and logged again, every poll: only a change to what the files hold, or a SIGHUP, reads
 * them anew.
 */
export function createSecretReloader(options: {
  env: NodeJS.ProcessEnv;
  initial: WebhookSecrets;
  logger: Logger;
  metrics: ReceiverMetrics;
  pollMs: number;
}): SecretReloader {
  const { env, logger, metrics, pollMs } = options;
  let secrets = options.initial;
  let lastRead = fingerprint({ secrets, problems: [] });
  // A changed reading seen by one poll, taken if the next reads it alike.
  let pending: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  metrics.secretsTakenAt.setToCurrentTime();

  function read(): Reading {
    const reader = environmentReader(env);
    const next = readWebhookSecrets(reader);
    return { secrets: next, problems: reader.problems };
  }

  /** A position's series would otherwise add up the counts of two different secrets. */
  function resetChangedCounts(next: WebhookSecrets): void {
    for (const webhook of WEBHOOKS) {
      const before = secrets[webhook.type];
      if (sameList(before, next[webhook.type])) continue;
      before.forEach((_secret, index) => metrics.signatureVerified.remove({ type: webhook.type, secret: String(index) }));
    }
  }

  function take(reading: Reading, trigger: ReloadTrigger): boolean {
    lastRead = fingerprint(reading);
    pending = undefined;
    if (reading.problems.length > 0) {
      metrics.secretReloadFailures.inc({ trigger });
      logger.error({ trigger, problems: reading.problems }, 'Refused the new webhook secrets; the ones in force stay');
      return false;
    }
    resetChangedCounts(reading.secrets);
    secrets = reading.secrets;
    metrics.secretsTakenAt.setToCurrentTime();
    logger.info({ trigger, secret_counts: secretCounts(secrets) }, 'Webhook secrets reloaded');
    for (const warning of shortSecretWarnings(secrets)) logger.warn({ trigger, warning }, 'Configuration warning');
    return true;
  }

  function poll(): boolean {
    const reading = read();
    const seen = fingerprint(reading);
    if (seen === lastRead) {
      pending = undefined;
      return false;
    }
    if (seen !== pending) {
      pending = seen;
      return false;
    }
    return take(reading, 'file_change');
  }

  /**
   * Whatever a reading throws (none is known: files are bounded and never block) is logged and
   * counted, and the set in force stays: a poll's timer or a signal's handler would otherwise end
   * the process. A poll logs the same failure once, as it does a refusal.
   */
  function guarded(trigger: ReloadTrigger, attempt: () => boolean): boolean {
    try {
      return attempt();
    } catch (error) {
      const err = (error instanceof Error ? error : new Error('a value that is not an Error was thrown')) as NodeJS.ErrnoException;
      const failure = `failed: ${err.name} ${err.code} ${err.message}`;
      if (trigger === 'file_change' && failure === lastRead) return false;
      lastRead = failure;
      pending = undefined;
      metrics.secretReloadFailures.inc({ trigger });
      logger.error({ trigger, err }, 'Reading the webhook secrets failed; the ones in force stay');
      return false;
    }
  }

  return {
    current: () => secrets,
    reload: (trigger) => guarded(trigger, () => take(read(), trigger)),
    start() {
      const watched = Object.values(SECRET_VARIABLES).some((variable) => Boolean(env[`${variable}_FILE`]));
      if (!watched || pollMs === 0 || timer) return;
      timer = setInterval(() => guarded('file_change', poll), pollMs);
      // The poll never keeps the process alive on its own.
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
