import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** /healthz (process up), /readyz (in the group, committing, not stopped on a failure), /metrics (Prometheus). */
export function createOpsServer(options: { port: number; host: string; isReady: () => boolean; registry: Registry }) {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: 'Method not allowed' });
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') return options.isReady() ? json(200, { status: 'ready' }) : json(503, { status: 'unavailable' });
    if (path === '/metrics') {
      options.registry.metrics().then((text) => {
        response.writeHead(200, { 'content-type': options.registry.contentType });
        response.end(text);
      }, () => json(500, { error: 'metrics unavailable' }));
      return;
    }
    json(404, { error: 'Not found' });
  });
  server.requestTimeout = 10_000;
  return {
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => resolve(server.address() as AddressInfo));
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
