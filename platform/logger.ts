import pino, { type DestinationStream, type Logger } from 'pino';
import { WEBHOOKS } from '../schemas/webhook-catalog';

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
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
