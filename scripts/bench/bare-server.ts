import { createServer } from 'node:http';

/**
 * The baseline: a bare node:http server that reads the body and answers 202, as cheap as a
 * receiver can possibly be on this machine. Prints its port on stdout.
 */
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = '{"success":true}';
    response.writeHead(202, { 'content-type': 'application/json', 'content-length': body.length });
    response.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
