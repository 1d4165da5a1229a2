import { WEBHOOKS, WEBHOOK_PATH_PREFIXES, type WebhookDefinition } from '../schemas/webhook-catalog';

/** Every webhook path: each webhook under `/api/webhooks/` and `/api/v1/webhooks/` (the API gateway's). */
export const WEBHOOK_ROUTES: ReadonlyMap<string, WebhookDefinition> = new Map(
  WEBHOOK_PATH_PREFIXES.flatMap((prefix) => WEBHOOKS.map((definition) => [`${prefix}${definition.name}`, definition] as const)),
);

export const OPERATIONS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;
