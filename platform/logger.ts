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
 * Lines are written to stdout in writes of this many bytes, or every LOG_FLUSH_MS, whichever
 * comes first: at 1,000 webhooks/s a write per line (a line per request, and one per applied
 * event) was 7% of the receiver's CPU, each write waking whatever reads the pipe.
 */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 100;

/**
 * The log format of every service: pino JSON. Signature headers and secrets are redacted
 * wherever they would appear, as a guard: the services never log them. Lines are written to
 * stdout asynchronously and buffered (LOG_BUFFER_BYTES, at most LOG_FLUSH_MS late); they are
 * flushed on exit, and a kill -9 loses at most the last LOG_FLUSH_MS of them. Call
 * `logger.flush()` before exiting.
 */
export function createLogger(options: { level: string; name: string }, destination?: DestinationStream): Logger {
  const headerPaths = ['webhook-signature', 'svix-signature', ...WEBHOOKS.map((webhook) => webhook.signatureHeader)].flatMap((header) => [
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
    destination ?? pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS }),
  );
}
