import type { ServerResponse } from 'node:http';
import { registryProxy } from './registry-proxy';

/** How the fake registry answers one of the requests a compatibility check makes. */
export type FakeAnswer = (outgoing: ServerResponse) => void;

/** A JSON answer with its status. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeAnswer {
  return (outgoing) => outgoing.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** The answers a Confluent-compatible registry gives for a BACKWARD subject whose latest version the schema is compatible with. */
const REGISTRY_LIKE = {
  config: json(200, { compatibilityLevel: 'BACKWARD' }),
  latest: json(200, { subject: 'any-value', version: 1, id: 1, schema: '"string"' }),
  compatible: json(200, { is_compatible: true }),
  subjects: json(200, []),
};

/**
 * A registry of our own making, in front of no real one: each request of a compatibility check
 * gets the answer given for it, or the answer a registry gives; anything else a 500. For what a
 * proxy, a stub or a hostile server might answer, which the real registry never does.
 */
export async function fakeRegistry(answers: Partial<Record<keyof typeof REGISTRY_LIKE, FakeAnswer>>): Promise<string> {
  const chosen = { ...REGISTRY_LIKE, ...answers };
  const { url } = await registryProxy((incoming, outgoing) => {
    const path = new URL(incoming.url ?? '/', 'http://fake').pathname;
    if (/\/config\/[^/]+$/.test(path)) chosen.config(outgoing);
    else if (/\/compatibility\/subjects\/[^/]+\/versions\/latest$/.test(path)) chosen.compatible(outgoing);
    else if (/\/subjects\/[^/]+\/versions\/latest$/.test(path)) chosen.latest(outgoing);
    else if (/\/subjects$/.test(path)) chosen.subjects(outgoing);
    else outgoing.writeHead(500).end();
    return undefined;
  });
  return url;
}

/** An answer that sends its headers, then one byte every `everyMs`, and never ends. */
export function trickle(everyMs: number): FakeAnswer {
  return (outgoing) => {
    outgoing.writeHead(200, { 'content-type': 'application/json' });
    outgoing.write('{');
    const timer = setInterval(() => outgoing.write(' '), everyMs);
    outgoing.on('close', () => clearInterval(timer));
  };
}

/** A chunked answer (no content-length) of `bytes` bytes, stopped when the client hangs up. */
export function endless(bytes: number): FakeAnswer {
  return (outgoing) => {
    outgoing.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, ' ');
    let sent = 0;
    const more = (): void => {
      while (sent < bytes && !outgoing.destroyed) {
        sent += chunk.length;
        if (!outgoing.write(chunk)) return void outgoing.once('drain', more);
      }
      if (!outgoing.destroyed) outgoing.end();
    };
    more();
  };
}
