import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { BodyTooLargeError, readBody, RequestAbortedError } from '../../receiver/read-body';
import { withinDeadline } from '../support/wait-for';

const LIMIT = 10;

/** What the client does after writing its bytes: keep the connection open, or close it. */
type Then = 'hold' | 'close';

/**
 * readBody's outcome for a request written byte for byte to a real node:http server on port 0.
 * With `hold` the client neither ends nor closes: an outcome that waits for more is a timeout.
 */
async function outcomeOf(raw: Buffer | string, then: Then): Promise<Buffer | Error> {
  let settle!: (outcome: Buffer | Error) => void;
  const outcome = new Promise<Buffer | Error>((resolve) => (settle = resolve));
  let requested!: () => void;
  const received = new Promise<void>((resolve) => (requested = resolve));
  const server = createServer((request, response) => {
    requested();
    readBody(request, LIMIT).then(settle, settle).finally(() => response.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.on('error', () => undefined);
  try {
    await once(socket, 'connect');
    socket.write(raw);
    if (then === 'close') {
      await withinDeadline('the server reading the request', received, 5000);
      socket.destroy();
    }
    return await withinDeadline('readBody settling', outcome, 5000);
  } finally {
    socket.destroy();
    server.closeAllConnections();
    server.close();
  }
}

const request = (headers: string, body: Buffer | string = ''): Buffer => Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\nHost: test\r\n${headers}\r\n`), Buffer.from(body)]);
const chunked = (...chunks: string[]): string => chunks.map((chunk) => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');

describe('readBody', () => {
  it.each([
    ['a body under the limit', request('Content-Length: 5\r\n', 'hello'), 'hello'],
    ['a body of exactly the limit', request('Content-Length: 10\r\n', '0123456789'), '0123456789'],
    ['an empty body', request('Content-Length: 0\r\n'), ''],
    ['a chunked body, its chunks joined in order', request('Transfer-Encoding: chunked\r\n', `${chunked('abc', 'defg')}0\r\n\r\n`), 'abcdefg'],
    ['a chunked body of exactly the limit', request('Transfer-Encoding: chunked\r\n', `${chunked('01234', '56789')}0\r\n\r\n`), '0123456789'],
  ])('reads %s', async (_name, raw, expected) => {
    expect(await outcomeOf(raw, 'hold')).toEqual(Buffer.from(expected));
  });

  it('hands back bytes that are not UTF-8 exactly as they came', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0xc3]);
    expect(await outcomeOf(request('Content-Length: 4\r\n', bytes), 'hold')).toEqual(bytes);
  });

  it.each([
    ['a Content-Length over the limit, before a byte of the body arrives', request('Content-Length: 11\r\n'), 'hold', BodyTooLargeError, 'BODY_TOO_LARGE'],
    ['a chunked body that passes the limit, before it ends', request('Transfer-Encoding: chunked\r\n', chunked('012345', '678901')), 'hold', BodyTooLargeError, 'BODY_TOO_LARGE'],
    ['a body the client stops sending and closes the connection on', request('Content-Length: 10\r\n', 'abc'), 'close', RequestAbortedError, 'REQUEST_ABORTED'],
    ['a chunked body the client closes the connection on', request('Transfer-Encoding: chunked\r\n', chunked('abc')), 'close', RequestAbortedError, 'REQUEST_ABORTED'],
  ] as const)('refuses %s', async (_name, raw, then, type, code) => {
    const outcome = await outcomeOf(raw, then);
    expect(outcome).toBeInstanceOf(type);
    expect((outcome as Error & { code: string }).code).toBe(code);
  });
});
