import { Counter, Gauge, Registry } from 'prom-client';
import { createOpsServer } from '../../processor/ops-server';
import { onCleanup } from '../support/cleanup';

/** An ops server on a free port; `ready` is what its readiness check answers. */
async function opsServer(registry: Registry = new Registry()) {
  const state = { ready: true };
  const server = createOpsServer({ port: 0, host: '127.0.0.1', isReady: () => state.ready, registry });
  const address = await server.listen();
  onCleanup(() => server.close());
  return { url: `http://127.0.0.1:${address.port}`, state };
}

describe('processor ops server', () => {
  it.each([
    ['GET /healthz', 'GET', '/healthz', true, 200, { status: 'ok' }],
    ['GET /healthz while not ready (the process is up)', 'GET', '/healthz', false, 200, { status: 'ok' }],
    ['GET /readyz while ready', 'GET', '/readyz', true, 200, { status: 'ready' }],
    ['GET /readyz while not ready', 'GET', '/readyz', false, 503, { status: 'unavailable' }],
    ['GET /readyz with a query string', 'GET', '/readyz?probe=kubelet', false, 503, { status: 'unavailable' }],
    ['POST /healthz', 'POST', '/healthz', true, 405, { error: 'Method not allowed' }],
    ['DELETE /readyz', 'DELETE', '/readyz', true, 405, { error: 'Method not allowed' }],
    ['GET of a path it does not serve', 'GET', '/api/webhooks/buy-complete', true, 404, { error: 'Not found' }],
  ])('answers %s', async (_name, method, path, ready, status, body) => {
    const server = await opsServer();
    server.state.ready = ready;
    const response = await fetch(`${server.url}${path}`, { method });
    expect([response.status, response.headers.get('content-type'), await response.json()]).toEqual([status, 'application/json', body]);
  });

  it('answers HEAD /readyz with the status and no body', async () => {
    const server = await opsServer();
    server.state.ready = false;
    const response = await fetch(`${server.url}/readyz`, { method: 'HEAD' });
    expect([response.status, await response.text()]).toEqual([503, '']);
  });

  it('follows readiness as it changes, without a restart', async () => {
    const server = await opsServer();
    const statuses: number[] = [];
    for (const ready of [true, false, true]) {
      server.state.ready = ready;
      statuses.push((await fetch(`${server.url}/readyz`)).status);
    }
    expect(statuses).toEqual([200, 503, 200]);
  });

  it("serves the registry's metrics in Prometheus text", async () => {
    const registry = new Registry();
    new Counter({ name: 'ops_server_test_total', help: 'A counter of the test', registers: [registry] }).inc(3);
    const server = await opsServer(registry);
    const response = await fetch(`${server.url}/metrics`);
    expect([response.status, response.headers.get('content-type')]).toEqual([200, registry.contentType]);
    expect(await response.text()).toContain('\nops_server_test_total 3\n');
  });

  it('answers 500 when the metrics cannot be collected', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'ops_server_broken',
      help: 'A gauge whose collection fails',
      registers: [registry],
      collect() {
        throw new Error('collection failed');
      },
    });
    const server = await opsServer(registry);
    const response = await fetch(`${server.url}/metrics`);
    expect([response.status, await response.json()]).toEqual([500, { error: 'metrics unavailable' }]);
  });
});
