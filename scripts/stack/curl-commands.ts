import { signPayload } from '../../schemas/signatures';

/** A copy-pasteable signed request: the body in single quotes, exactly the bytes signed. */
export function signedCurl(options: { url: string; header: string; secret: string; body: string }): string {
  const signature = signPayload(options.body, options.secret);
  return [
    `curl -i -X POST ${options.url} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H '${options.header}: ${signature}' \\`,
    `  --data-binary '${options.body}'`,
  ].join('\n');
}
