import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { signPayload } from '../../sender';
import { testAdmin } from '../support/kafka';
import { uniqueName } from '../support/names';
import { freePort } from '../../scripts/harness/free-port';
import { TEST_SECRETS, receiverProcess } from '../support/receiver';
import type { ServiceProcess } from '../support/service-process';
import { BAD_REQUEST_KINDS, badRequests, type Case } from './bad-requests';
import { JSON_TYPE, VALID_BUY_BODY } from './webhook-endpoints';
import { FAULT_SEED } from './seeded-random';

interface Response {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** One request with exactly these bytes and headers; status 0 when the server closed the connection. */
function send(port: number, testCase: Pick<Case, 'method' | 'path' | 'body' | 'headers'>): Promise<Response> {
  // A header given twice is sent as two header lines (Node writes an array value that way).
  const headers: Record<string, string | string[]> = { 'content-length': String(testCase.body.length) };
  for (const [name, value] of testCase.headers) {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return new Promise((resolve) => {
    const closed = { status: 0, contentType: undefined, text: '' };
    const request = httpRequest({ host: '127.0.0.1', port, method: testCase.method, path: testCase.path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', () => resolve(closed));
    });
    request.on('error', () => resolve(closed));
    request.end(testCase.body);
  });
}

/** Writes `chunks` one every `intervalMs`; resolves with the status line received, or 'closed'. */
function drip(port: number, chunks: string[], intervalMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let index = 0;
    const timer = setInterval(() => {
      if (index < chunks.length && !socket.destroyed) socket.write(chunks[index++]!);
    }, intervalMs);
    socket.on('data', (data) => (received += data.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received ? received.split('\r\n')[0]! : 'closed');
    });
  });
}

describe('faults: bad input never gets in', () => {
  let receiver: ServiceProcess;
  let port: number;
  let topic: string;

  beforeAll(async () => {
    port = await freePort();
    topic = uniqueName('bad_input');
    receiver = receiverProcess({ port, topic, env: { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' } });
    await receiver.start();
  });

  it('answers 1,000 generated bad requests on all four endpoints with the documented status and body, stays up with flat memory, and writes nothing', async () => {
    process.stdout.write(`\nBad-input seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);
    // Warm up, then take the memory baseline.
    for (let index = 0; index < 200; index += 1) await send(port, { method: 'POST', path: '/api/webhooks/buy-complete', body: VALID_BUY_BODY, headers: [...JSON_TYPE] });
    const rssBefore = receiver.rssMiB();
    const kinds = new Map<string, number>();
    const endpointsSeen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(badRequests, async (testCase) => {
        const response = await send(port, testCase);
        kinds.set(testCase.kind, (kinds.get(testCase.kind) ?? 0) + 1);
        endpointsSeen.add(testCase.endpoint);
        const where = `${testCase.kind} on ${testCase.method} ${testCase.path} (${testCase.detail})`;
        if (response.status !== testCase.expect.status) throw new Error(`${where}: expected ${testCase.expect.status}, got ${response.status} ${response.text}`);
        if (!response.contentType?.startsWith('application/json')) throw new Error(`${where}: content type ${response.contentType}`);
        expect({ where, body: JSON.parse(response.text) as unknown }).toEqual({ where, body: testCase.expect.body });
      }),
      { seed: FAULT_SEED, numRuns: 1000 },
    );
    const rssAfter = receiver.rssMiB();
    process.stdout.write(
      `Bad input: 1000 requests; receiver RSS ${rssBefore} → ${rssAfter} MiB\n${[...kinds].sort(([a], [b]) => a.localeCompare(b)).map(([kind, count]) => `  ${kind.padEnd(42)} ${count}`).join('\n')}\n`,
    );

    expect(kinds.size).toBe(BAD_REQUEST_KINDS.length);
    expect([...endpointsSeen].sort()).toEqual(['buy-complete', 'none', 'relworx', 'sell-complete', 'trade-status']);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(rssAfter - rssBefore).toBeLessThan(64);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(0);
  }, 300_000);

  it('closes slow-drip headers and bodies', async () => {
    const slowHeaders = drip(port, ['POST /api/webhooks/buy-complete HTTP/1.1\r\n', 'Host: x\r\n', 'Content-Type: application/json\r\n', 'X-Slow: 1\r\n', 'X-Slow: 2\r\n', 'X-Slow: 3\r\n', 'X-Slow: 4\r\n', 'X-Slow: 5\r\n'], 500);
    const body = '{"trade_id":42,"status":"completed","transaction_hash":"0xabc"}';
    const slowBody = drip(
      port,
      [`POST /api/webhooks/buy-complete HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Buy-Webhook-Signature: ${signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET)}\r\n\r\n`, ...body.split('')],
      300,
    );
    const [headers, bodyResult] = await Promise.all([slowHeaders, slowBody]);
    expect(['closed', 'HTTP/1.1 408 Request Timeout']).toContain(headers);
    expect(['closed', 'HTTP/1.1 408 Request Timeout']).toContain(bodyResult);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(0);
  }, 60_000);
});
