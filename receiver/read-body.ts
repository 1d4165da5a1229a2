import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  readonly code = 'BODY_TOO_LARGE';
}

/** The client closed the connection before the body ended: nobody is left to answer. */
export class RequestAbortedError extends Error {
  readonly code = 'REQUEST_ABORTED';
  constructor() {
    super('the client closed the connection before the body ended');
  }
}

/**
 * Reads the body, refusing it as soon as it passes `maxBytes`: from Content-Length before a
 * byte is read, else while it streams in. Slow senders are cut off by the server's timeouts.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        request.pause();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    // node:http destroys the request with ECONNRESET when its socket closes mid-body, and a
    // request that closes before it ended was cut off either way (also by the server's timeouts).
    const onError = (error: NodeJS.ErrnoException): void => {
      cleanup();
      reject(error.code === 'ECONNRESET' ? new RequestAbortedError() : error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new RequestAbortedError());
    };
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}
