import pino, { type DestinationStream, type Logger } from 'pino';
import { WEBHOOKS } from '../schemas/webhook-catalog';

/**
 * The user and password of a URL (`//user:password@`): up to the last `@` before the host's end,
 * as a URL parser reads it, so a password holding a raw `@` is covered whole.
 */
const URL_CREDENTIALS = /\/\/[^/?#\s]*@/g;

/** `text` with the credentials of every URL in it replaced by `[redacted]`. */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '//[redacted]@');
}

/** Every string of a serialized error, its nested errors' included, masked. */
function masked(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => masked(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = masked(item, depth + 1);
  return copy;
}

/**
 * pino's error serializer, then every string of the result masked: clients put the URL they
 * called into their errors (the registry client's `url`, messages and stacks quoting it), and
 * a URL may hold a password. The configuration refuses such URLs; this guards what it cannot
 * see (a URL from a file, a library's own).
 */
function serializeError(error: unknown): unknown {
  return masked(pino.stdSerializers.err(error as Error));
}

/**
 * The log format of every service: pino JSON. Signature headers and secrets are redacted
 * wherever they would appear, as a guard: the services never log them. Lines are written to
 * stdout asynchronously (a write per request would cost the receiver a system call each);
 * call `logger.flush()` before exiting.
 */
export function createLogger(options: { level: string; name: string }, destination?: DestinationStream): Logger {
  const headerPaths = ['webhook-signature', ...WEBHOOKS.map((webhook) => webhook.signatureHeader)].flatMap((header) => [
    `headers["${header}"]`,
    `req.headers["${header}"]`,
  ]);
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: [...headerPaths, 'secret', 'secrets', '*.secret', '*.secrets'], censor: '[redacted]' },
      serializers: { err: serializeError },
      hooks: {
        // An error logged without a message gets its own message as the line's: masked too.
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          if (first instanceof Error && typeof second !== 'string') {
            return method.apply(this, [first, maskUrlCredentials(first.message), ...(args.slice(1) as unknown[])] as Parameters<typeof method>);
          }
          return method.apply(this, args);
        },
      },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
