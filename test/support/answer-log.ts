import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup';

/** One HTTP answer: its status and when (Date.now()) it passed on its way to the client. */
export interface SeenAnswer {
  readonly status: number;
  readonly at: number;
}

/**
 * The answers a server gave, as its clients saw them, every attempt of every retry: measured
 * between the two, so neither the senders' retries nor the server's own counts can hide one.
 */
export interface AnswerLog {
  /** Where clients send their requests instead of the server's own URL. */
  readonly url: string;
  answers(): readonly SeenAnswer[];
}

/**
 * An HTTP proxy in front of `serverUrl` that notes the status of each answer it passes on. A
 * request the server never answers (its connection failed) ends the client's connection, as
 * the server's failure would have, and is not noted.
 */
export async function startAnswerLog(serverUrl: string): Promise<AnswerLog> {
  const target = new URL(serverUrl);
  const seen: SeenAnswer[] = [];
  const agent = new Agent({ keepAlive: true });
  const proxy = createServer((request, response) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers, agent },
      (answer) => {
        seen.push({ status: answer.statusCode!, at: Date.now() });
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, answers: () => seen };
}

/** The 5xx answers from `since` on: how many, and the time from the first to the last. */
export function fiveXxWindow(answers: readonly SeenAnswer[], since = 0): { count: number; firstAt?: number; lastAt?: number; windowMs: number } {
  const failed = answers.filter((answer) => answer.status >= 500 && answer.at >= since);
  if (failed.length === 0) return { count: 0, windowMs: 0 };
  const firstAt = Math.min(...failed.map((answer) => answer.at));
  const lastAt = Math.max(...failed.map((answer) => answer.at));
  return { count: failed.length, firstAt, lastAt, windowMs: lastAt - firstAt };
}
