import autocannon from 'autocannon';

export interface PreparedRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  /** Requests answered with `expectStatus`, per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than `expectStatus`, and connection errors and timeouts. */
  errors: number;
}

/**
 * A closed-loop load of `connections` keep-alive connections for `seconds`, cycling through
 * requests signed before the clock starts.
 */
export async function runLoad(options: { url: string; requests: PreparedRequest[]; connections: number; seconds: number; expectStatus: number }): Promise<LoadResult> {
  let next = 0;
  const { requests } = options;
  let matched = 0;
  let other = 0;
  // Without a callback autocannon returns its instance, an event emitter that is also a promise.
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        setupRequest: (request) => {
          const prepared = requests[next++ % requests.length]!;
          return { ...request, method: 'POST', path: prepared.path, body: prepared.body, headers: prepared.headers };
        },
      },
    ],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  instance.on('response', (_client: unknown, statusCode: number) => {
    if (statusCode === options.expectStatus) matched += 1;
    else other += 1;
  });
  const result = await instance;
  return {
    rps: matched / options.seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: other + result.errors + result.timeouts,
  };
}
