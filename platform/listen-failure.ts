/**
 * Why a server could not listen on `host`:`port`, in one line an operator can act on: the
 * codes node:net reports for the causes that are the host's doing, the error's own message else.
 */
export function listenFailureMessage(error: unknown, host: string, port: number): string {
  const where = `${host}:${port}`;
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return `Cannot listen on ${where}: another process is using the port`;
    case 'EACCES':
      return `Cannot listen on ${where}: not permitted to bind the port (below 1024 without privileges?)`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${where}: no network interface of this host has that address`;
    default:
      return `Cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
