import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { fiveXxWindow, startAnswerLog } from './answer-log';
import { onCleanup } from './cleanup';

async function listening(server: { listen(port: number, host: string, done: () => void): unknown; address(): unknown; close(done: () => void): unknown }): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the answer log', () => {
  it('sees the status of every answer on kept-alive connections, in order', async () => {
    const url = await listening(createHttpServer((request, response) => {
      response.writeHead(Number(request.url!.slice(1)), { 'content-type': 'application/json' });
      // A body that mentions a status line must not count as one.
      response.end(JSON.stringify({ note: 'not HTTP/1.1 500 at all' }));
    }));
    const log = await startAnswerLog(url);
    const statuses = [202, 503, 503, 202, 400, 202];
    for (const status of statuses) await (await fetch(`${log.url}/${status}`)).text();
    expect(log.answers().map((answer) => answer.status)).toEqual(statuses);
  });

  it('notes nothing for a request the server drops, and the client sees the connection fail', async () => {
    const url = await listening(createTcpServer((socket) => socket.once('data', () => socket.destroy())));
    const log = await startAnswerLog(url);
    await expect(fetch(log.url)).rejects.toThrow();
    expect(log.answers()).toEqual([]);
  });

  it('measures the 5xx window from the first 5xx to the last', () => {
    const answers = [
      { status: 202, at: 1000 },
      { status: 503, at: 1200 },
      { status: 202, at: 1300 },
      { status: 500, at: 1900 },
      { status: 202, at: 2500 },
    ];
    expect(fiveXxWindow(answers)).toEqual({ count: 2, firstAt: 1200, lastAt: 1900, windowMs: 700 });
    expect(fiveXxWindow(answers, 1500)).toEqual({ count: 1, firstAt: 1900, lastAt: 1900, windowMs: 0 });
    expect(fiveXxWindow(answers.filter((answer) => answer.status < 500))).toEqual({ count: 0, windowMs: 0 });
  });
});
