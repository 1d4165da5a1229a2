import { hasWhitespaceOrControl, type EnvironmentReader } from '../platform/environment';
import { SECRET_VARIABLES } from '../platform/secret-variables';
import { splitSecrets, standardWebhookKey, STANDARD_WEBHOOKS_MIN_KEY_BYTES, WHSEC_PREFIX } from '../schemas/signatures';
import { WEBHOOKS, type WebhookType } from '../schemas/webhook-catalog';

/** Secrets per webhook type, each list holding the current and any rotated-out secret. */
export type WebhookSecrets = Readonly<Record<WebhookType, readonly string[]>>;

/** HMAC keys shorter than the digest weaken it (RFC 2104 §3). */
export const MIN_SECRET_BYTES = 32;

/** `its secret`, or `secret 2 of its 3`: a secret is named by its position, never its value. */
function position(secrets: readonly string[], index: number): string {
  return secrets.length === 1 ? 'its secret' : `secret ${index + 1} of its ${secrets.length}`;
}

/**
 * The problem with each secret of one variable, the first it has, never the value: only the
 * variable and the position. A secret holding whitespace or a control character is refused
 * rather than split (no generated secret holds one; a file with one secret per line does, and
 * would be taken as one secret with a newline in it, which verifies nothing): commas separate
 * secrets, one rule. A `whsec_` key that does not decode would verify nothing, or (with a
 * lenient decoder) everything signed with an empty key; a short one is guessable.
 */
function secretProblems(variable: string, secrets: readonly string[]): string[] {
  return secrets.flatMap((secret, index) => {
    const which = position(secrets, index);
    if (hasWhitespaceOrControl(secret)) return [`${variable}: ${which} contains whitespace or a control character (separate secrets with commas, not lines)`];
    if (!secret.startsWith(WHSEC_PREFIX)) return [];
    const key = standardWebhookKey(secret);
    if (!key) return [`${variable}: ${which} has the whsec prefix but is not valid base64 (standard alphabet, padded to a multiple of 4)`];
    if (key.length < STANDARD_WEBHOOKS_MIN_KEY_BYTES) return [`${variable}: ${which} has the whsec prefix but decodes to fewer than ${STANDARD_WEBHOOKS_MIN_KEY_BYTES} bytes`];
    return [];
  });
}

/** Whether a secret that is used as its UTF-8 bytes (not `whsec_`) is shorter than MIN_SECRET_BYTES. */
function isShortSecret(secret: string): boolean {
  return !secret.startsWith(WHSEC_PREFIX) && Buffer.byteLength(secret) < MIN_SECRET_BYTES;
}

/**
 * The four secret variables, each from its value or its `_FILE`, every problem recorded in
 * `read.problems`: one missing, a file that cannot be read, a secret with whitespace in it, a
 * `whsec_` secret that is not a key.
 */
export function readWebhookSecrets(read: EnvironmentReader): WebhookSecrets {
  const { problems } = read;
  const secrets = {} as Record<WebhookType, readonly string[]>;
  for (const webhook of WEBHOOKS) {
    const variable = SECRET_VARIABLES[webhook.type];
    const before = problems.length;
    const list = splitSecrets(read.secret(variable) ?? '');
    // Unless reading it was the problem (both it and its _FILE set, a file that cannot be read).
    if (list.length === 0 && problems.length === before) problems.push(`${variable} is required (the secret of the ${webhook.name} webhook)`);
    problems.push(...secretProblems(variable, list));
    secrets[webhook.type] = Object.freeze(list);
  }
  return Object.freeze(secrets);
}

/**
 * Warnings, not problems, at start and at a reload alike: a short secret may be what the sender
 * issued, and refusing it would stop the webhook. It is named by variable and position.
 */
export function shortSecretWarnings(secrets: WebhookSecrets): string[] {
  return WEBHOOKS.flatMap((webhook) => {
    const list = secrets[webhook.type];
    return list.flatMap((secret, index) =>
      isShortSecret(secret) ? [`${SECRET_VARIABLES[webhook.type]}: ${position(list, index)} is shorter than ${MIN_SECRET_BYTES} bytes`] : [],
    );
  });
}

/** How many secrets each type holds: what a log line may say about them. */
export function secretCounts(secrets: WebhookSecrets): Record<WebhookType, number> {
  return Object.fromEntries(WEBHOOKS.map((webhook) => [webhook.type, secrets[webhook.type].length])) as Record<WebhookType, number>;
}
