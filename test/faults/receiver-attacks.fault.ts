import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { ConfigError, readReceiverConfig } from '../../receiver/config';
import { startProjectProcess } from '../../scripts/harness/project-process';
import { eventIdOf } from '../../schemas/event-identity';
import { signPayload, signStandardWebhook } from '../../schemas/signatures';
import { WEBHOOKS, webhookByType, type WebhookType } from '../../schemas/webhook-catalog';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { freePort } from '../../scripts/harness/free-port';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS, receiverProcess } from '../support/receiver';
import { readTopic } from '../support/topic-reader';
import { FAULT_SEED } from './seeded-random';
import { SECRET_VARIABLES } from '../../platform/secret-variables';

process.stdout.write(`\nReceiver-attacks seed: ${FAULT_SEED} (repeat with FAULT_SEED=${FAULT_SEED})\n`);

const INVALID_SIGNATURE = { success: false, error: 'Invalid signature' };
const TOO_MANY_REQUESTS = { success: false, error: 'Too many requests' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One POST with exactly these header lines (a name given twice is sent twice); status 0 when the connection failed. */
function post(port: number, path: string, body: string, headers: Array<[string, string]>): Promise<Answer> {
  const grouped: Record<string, string | string[]> = { 'content-length': String(Buffer.byteLength(body)) };
  for (const [name, value] of headers) {
    const previous = grouped[name];
    grouped[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return new Promise((resolve) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers: grouped }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined }));
      response.on('error', () => resolve({ status: 0, headers: {}, body: undefined }));
    });
    request.on('error', () => resolve({ status: 0, headers: {}, body: undefined }));
    request.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Malformed secrets at start-up

const base64Of = (minBytes: number, maxBytes: number) =>
  fc.uint8Array({ minLength: minBytes, maxLength: maxBytes }).map((bytes) => Buffer.from(bytes).toString('base64'));

/** A character a standard base64 text never holds (',' is left out: it separates rotated secrets). */
const foreign = fc.constantFrom('-', '_', ' ', '.', '!', '*', '~', ':', '"', '\\', '\t', 'é', '%', '$');

/** Base64 text that a strict decoder must refuse, each built to be wrong in one known way. */
const notBase64: fc.Arbitrary<{ how: string; text: string }> = fc.oneof(
  fc.tuple(base64Of(24, 48), foreign, fc.nat()).map(([text, character, at]) => {
    // Inside, not at an end: the ends of a secret are trimmed when the variable is split.
    const position = 1 + (at % (text.length - 1));
    return { how: 'a character outside the alphabet', text: text.slice(0, position) + character + text.slice(position) };
  }),
  fc.tuple(base64Of(24, 48), foreign, fc.nat()).map(([text, character, at]) => {
    const position = at % text.length;
    return { how: 'a character replaced by one outside the alphabet', text: text.slice(0, position) + character + text.slice(position + 1) };
  }),
  base64Of(24, 48)
    .filter((text) => text.endsWith('='))
    .map((text) => ({ how: 'padding left out', text: text.replace(/=+$/, '') })),
  fc.tuple(base64Of(24, 48), fc.integer({ min: 1, max: 3 })).map(([text, drop]) => ({ how: 'cut short', text: text.slice(0, -drop) })),
  fc.tuple(base64Of(24, 48).filter((text) => text.endsWith('=')), base64Of(3, 12)).map(([first, second]) => ({ how: 'padding in the middle', text: first + second })),
  fc.tuple(fc.uint8Array({ minLength: 24, maxLength: 48 }).filter((bytes) => bytes.length % 3 !== 0), fc.integer({ min: 1, max: 3 })).map(([bytes, bits]) => {
    // The last character before the padding carries unused low bits that must be zero.
    const text = Buffer.from(bytes).toString('base64');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = text.length - (bytes.length % 3 === 1 ? 3 : 2);
    const value = alphabet.indexOf(text[last]!) | bits;
    return { how: 'non-zero bits after the last byte', text: text.slice(0, last) + alphabet[value] + text.slice(last + 1) };
  }),
  fc.constant({ how: 'nothing after the prefix', text: '' }),
);

const unusableSecret: fc.Arbitrary<{ how: string; secret: string }> = fc.oneof(
  notBase64.map(({ how, text }) => ({ how: `not base64: ${how}`, secret: `whsec_${text}` })),
  base64Of(1, 23).map((text) => ({ how: 'a key shorter than 24 bytes', secret: `whsec_${text}` })),
);

interface BadStart {
  variable: string;
  how: string;
  secret: string;
  rotated: boolean;
  withoutCallbackUrl: boolean;
  env: Record<string, string>;
}

const badStart: fc.Arbitrary<BadStart> = fc
  .record({ variable: fc.constantFrom(...Object.values(SECRET_VARIABLES)), unusable: unusableSecret, rotated: fc.boolean(), withoutCallbackUrl: fc.boolean() })
  .map(({ variable, unusable, rotated, withoutCallbackUrl }) => {
    const good = TEST_SECRETS[variable as keyof typeof TEST_SECRETS];
    const env: Record<string, string> = { ...TEST_SECRETS, [variable]: rotated ? `${good},${unusable.secret}` : unusable.secret };
    if (!withoutCallbackUrl) env.RELWORX_CALLBACK_URL = TEST_RELWORX_CALLBACK_URL;
    return { variable, how: unusable.how, secret: unusable.secret, rotated, withoutCallbackUrl, env };
  });

/** What an operator must read, and must not: the variable is named, no secret's value appears. */
function expectRefusal(text: string, start: BadStart): void {
  // A space or a tab is refused before any decoding, as every secret holding one is.
  const refusal = /\s/.test(start.secret) ? 'contains whitespace or a control character' : 'has the whsec prefix but';
  expect(text).toContain(`${start.variable}: ${start.rotated ? 'secret 2 of its 2' : 'its secret'} ${refusal}`);
  if (start.withoutCallbackUrl) expect(text).toContain('RELWORX_CALLBACK_URL is required');
  else expect(text).not.toContain('RELWORX_CALLBACK_URL');
  expect(text).not.toContain(start.secret);
  for (const secret of Object.values(TEST_SECRETS)) expect(text).not.toContain(secret);
}

describe('faults: the receiver refuses to start on unusable secrets', () => {
  it('refuses 500 generated malformed or short whsec_ secrets, naming the variable and never the value', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(badStart, (start) => {
        seen.set(start.how, (seen.get(start.how) ?? 0) + 1);
        let refusal: unknown;
        try {
          readReceiverConfig(start.env);
        } catch (error) {
          refusal = error;
        }
        expect(refusal).toBeInstanceOf(ConfigError);
        const problems = (refusal as ConfigError).problems;
        expect(problems).toHaveLength(start.withoutCallbackUrl ? 2 : 1);
        expectRefusal((refusal as ConfigError).message, start);
      }),
      { seed: FAULT_SEED, numRuns: 500 },
    );
    process.stdout.write(`Malformed secrets: ${[...seen].map(([how, count]) => `${how} ×${count}`).join(', ')}\n`);
    expect(seen.size).toBeGreaterThanOrEqual(6);
  });

  it('exits 2 from the real process on three of them, printing the problems and no secret', async () => {
    const starts = fc.sample(badStart, { seed: FAULT_SEED, numRuns: 3 });
    for (const start of starts) {
      const child = startProjectProcess('receiver/main.ts', { PATH: process.env.PATH, ...start.env, PORT: '0', HOST: '127.0.0.1' });
      let output = '';
      child.child.stdout!.on('data', (chunk) => (output += chunk));
      child.child.stderr!.on('data', (chunk) => (output += chunk));
      // A receiver that accepted the configuration would run on: it is given 30 s to exit.
      const code = await Promise.race([child.exited, sleep(30_000).then(() => 'still running')]);
      await child.kill();
      expect(code).toBe(2);
      expectRefusal(output, start);
    }
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Spoofed forwarding headers

const RATE_PER_SECOND = 1;
const BURST = 3;
const MAX_CLIENTS = 16;

/** An X-Forwarded-For entry a client may write: an address, or anything a header can hold. */
const writtenEntry = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.string({ minLength: 1, maxLength: 24, unit: fc.constantFrom(...'abcxyz0123456789.:;[]<>/= -_'.split('')) }),
);

/** The X-Forwarded-For headers the client wrote: none, or up to three, each of a few entries. */
const writtenHeaders = fc.array(fc.array(writtenEntry, { minLength: 1, maxLength: 4 }).map((entries) => entries.join(', ')), { maxLength: 3 });

interface Burst {
  /** Per request of the attacker: the headers it wrote, how the proxy added its own entry, and other clients in between. */
  requests: Array<{ written: string[]; appendToLast: boolean; othersBefore: number }>;
}

const burst: fc.Arbitrary<Burst> = fc.record({
  requests: fc.array(fc.record({ written: writtenHeaders, appendToLast: fc.boolean(), othersBefore: fc.integer({ min: 0, max: MAX_CLIENTS / 2 }) }), { minLength: BURST + 3, maxLength: 15 }),
});

/** Headers as the trusted proxy forwards them: the client's own lines, with the address it saw appended. */
function forwarded(written: string[], appendToLast: boolean, seenAddress: string): Array<[string, string]> {
  if (written.length > 0 && appendToLast) {
    return [...written.slice(0, -1).map((line): [string, string] => ['x-forwarded-for', line]), ['x-forwarded-for', `${written[written.length - 1]}, ${seenAddress}`]];
  }
  return [...written.map((line): [string, string] => ['x-forwarded-for', line]), ['x-forwarded-for', seenAddress]];
}

describe('faults: spoofed forwarding headers never lift a client over its limit', () => {
  it('limits each generated attacker behind TRUST_PROXY=1 by the address the proxy appended', async () => {
    const port = await freePort();
    const topic = await createTestTopic(await testAdmin());
    const receiver = receiverProcess({
      port,
      topic,
      env: { TRUST_PROXY: '1', RATE_LIMIT_PER_SECOND: String(RATE_PER_SECOND), RATE_LIMIT_BURST: String(BURST), RATE_LIMIT_MAX_CLIENTS: String(MAX_CLIENTS) },
    });
    await receiver.start();

    // A body that is signed but invalid: answered 400 when let through, so nothing reaches Kafka.
    const body = '{}';
    const signed: Array<[string, string]> = [['content-type', 'application/json'], ['x-buy-webhook-signature', signPayload(body, TEST_SECRETS.BUY_WEBHOOK_SECRET)]];
    // Every attacker, and every other client, is a new address the proxy saw (198.18.0.0/15 is for tests).
    let clients = 0;
    const nextAddress = () => {
      clients += 1;
      return `198.${18 + (clients >> 16)}.${(clients >> 8) & 255}.${clients & 255}`;
    };
    let requests = 0;
    let limited = 0;

    await fc.assert(
      fc.asyncProperty(burst, async ({ requests: plan }) => {
        const attacker = nextAddress();
        const started = performance.now();
        let through = 0;
        for (const step of plan) {
          // Other clients in between fill the table; fewer than it holds, so the attacker's bucket must stay.
          for (let other = 0; other < step.othersBefore; other += 1) {
            await post(port, '/api/webhooks/buy-complete', body, [...signed, ['x-forwarded-for', nextAddress()]]);
          }
          const answer = await post(port, '/api/webhooks/buy-complete', body, [...signed, ...forwarded(step.written, step.appendToLast, attacker)]);
          requests += 1 + step.othersBefore;
          if (answer.status === 429) {
            limited += 1;
            expect(answer.body).toEqual(TOO_MANY_REQUESTS);
            expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
          } else {
            expect(answer.status).toBe(400);
            through += 1;
          }
        }
        const elapsedSeconds = (performance.now() - started) / 1000;
        if (through > BURST + Math.floor(elapsedSeconds * RATE_PER_SECOND)) {
          throw new Error(`attacker ${attacker} got ${through} requests through in ${elapsedSeconds.toFixed(2)} s (burst ${BURST}, ${RATE_PER_SECOND}/s)`);
        }
      }),
      { seed: FAULT_SEED, numRuns: 40 },
    );
    process.stdout.write(`Spoofed forwarding: ${requests} requests from ${clients} addresses, ${limited} attacker requests answered 429\n`);
    expect(limited).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(0);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// Standard Webhooks ids across types

const TYPES = WEBHOOKS.map((webhook) => webhook.type);
const secretOf = (type: WebhookType) => TEST_SECRETS[SECRET_VARIABLES[type] as keyof typeof TEST_SECRETS];
const pathOf = (type: WebhookType) => `/api/webhooks/${webhookByType(type)!.name}`;

/** A body each endpoint accepts, for trade (or reference) `n`. */
function validBody(type: WebhookType, n: number): string {
  switch (type) {
    case 'buy_completion':
      return JSON.stringify({ trade_id: n, status: 'failed' });
    case 'sell_completion':
      return JSON.stringify({ trade_id: n, status: 'failed' });
    case 'trade_status':
      return JSON.stringify({ trade_id: n, status: 'processing', metadata: { stage: 'attack' } });
    case 'relworx_payment':
      return JSON.stringify({ status: 'failed', customer_reference: `TRADE-${n}`, internal_reference: `RWX-${n}` });
  }
}

const collision = fc.record({
  // Ids as senders write them, colons included: the type in front must keep them apart anyway.
  webhookId: fc.string({ minLength: 1, maxLength: 60, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABC0123456789_-.:'.split('')) }),
  types: fc.shuffledSubarray(TYPES, { minLength: 2 }),
  tradeId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

describe('faults: Standard Webhooks ids cannot cross types', () => {
  it('refuses a request replayed to another endpoint and never gives two types one event id', async () => {
    const port = await freePort();
    const topic = await createTestTopic(await testAdmin());
    const receiver = receiverProcess({ port, topic });
    await receiver.start();

    /** Every accepted event: its id → its type. */
    const accepted = new Map<string, WebhookType>();
    let run = 0;
    let replays = 0;

    await fc.assert(
      fc.asyncProperty(collision, async ({ webhookId: generated, types, tradeId }) => {
        run += 1;
        // Runs (and fast-check's shrinking) may repeat an id; the run number keeps each run's events its own.
        const webhookId = `${generated}~${run}`;
        const timestamp = Math.floor(Date.now() / 1000);
        const requests = types.map((type) => {
          const body = validBody(type, tradeId);
          const headers: Array<[string, string]> = [
            ['content-type', 'application/json'],
            ['webhook-id', webhookId],
            ['webhook-timestamp', String(timestamp)],
            ['webhook-signature', signStandardWebhook(webhookId, timestamp, body, secretOf(type))],
          ];
          return { type, body, headers };
        });

        const ids = new Set<string>();
        for (const { type, body, headers } of requests) {
          const answer = await post(port, pathOf(type), body, headers);
          const eventId = eventIdOf({ webhookType: type, webhookId, body });
          expect({ status: answer.status, body: answer.body }).toEqual({
            status: 202,
            body: { success: true, event_id: eventId, topic, partition: expect.any(Number), offset: expect.stringMatching(/^\d+$/) },
          });
          expect(accepted.has(eventId)).toBe(false);
          accepted.set(eventId, type);
          ids.add(eventId);
        }
        expect(ids.size).toBe(types.length);

        // The first request, bytes and headers unchanged, to every other endpoint: another secret, so refused.
        const [signedFor] = requests;
        for (const target of types.slice(1)) {
          const answer = await post(port, pathOf(target), signedFor!.body, signedFor!.headers);
          replays += 1;
          expect({ status: answer.status, body: answer.body }).toEqual({ status: 401, body: INVALID_SIGNATURE });
        }
      }),
      { seed: FAULT_SEED, numRuns: 30 },
    );

    const messages = await readTopic(testKafka(), topic, { count: accepted.size, timeoutMs: 60_000 });
    process.stdout.write(`Ids across types: ${accepted.size} events accepted, ${replays} cross-endpoint replays refused, ${messages.length} in Kafka\n`);
    expect(messages).toHaveLength(accepted.size);
    const written = new Map(messages.map((message) => [message.value.event_id as string, message.value.webhook_type as string]));
    expect(written).toEqual(accepted);
  }, 300_000);
});
