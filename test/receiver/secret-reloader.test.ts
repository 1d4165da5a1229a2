import { writeFileSync } from 'node:fs';
import { createLogger } from '../../platform/logger';
import { MAX_SECRET_FILE_BYTES } from '../../platform/environment';
import { readReceiverConfig } from '../../receiver/config';
import { createReceiverMetrics, type ReceiverMetrics } from '../../receiver/metrics';
import { createSecretReloader, type SecretReloader } from '../../receiver/secret-reloader';
import { onCleanup } from '../support/cleanup';
import { CapturedLogs, TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { secretVolume, type SecretName } from '../support/secret-volume';
import { waitFor } from '../support/wait-for';

const NEXT_BUY = 'next-buy-secret-0123456789abcdef0123';

/** A reloader over `env`, started from the configuration read from it, logging into `logs`. */
function reloaderFor(env: NodeJS.ProcessEnv, pollMs = 20): { reloader: SecretReloader; logs: CapturedLogs; metrics: ReceiverMetrics } {
  const config = readReceiverConfig({ RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL, ...env });
  const logs = new CapturedLogs();
  const metrics = createReceiverMetrics();
  const reloader = createSecretReloader({ env, initial: config.secrets, logger: createLogger({ level: 'info', name: 'receiver' }, logs), metrics, pollMs });
  onCleanup(() => reloader.stop());
  return { reloader, logs, metrics };
}

/** The value of a counter or gauge without labels, or of its series with `labels`; undefined when it has none. */
async function valueOf(metric: ReceiverMetrics[keyof ReceiverMetrics], labels: Record<string, string> = {}): Promise<number | undefined> {
  const { values } = await (metric as ReceiverMetrics['secretReloadFailures']).get();
  return values.find((value) => Object.entries(labels).every(([name, label]) => (value.labels as Record<string, unknown>)[name] === label))?.value;
}

describe('secret reloader', () => {
  it('takes a new set on reload, all four types together, and logs how many secrets each holds, never one of them', () => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env);
    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: `${NEXT_BUY},${TEST_SECRETS.BUY_WEBHOOK_SECRET}`, SELL_WEBHOOK_SECRET: 'next-sell-secret-0123456789abcdef0123' });

    expect(reloader.current().buy_completion).toEqual([TEST_SECRETS.BUY_WEBHOOK_SECRET]);
    expect(reloader.reload('SIGHUP')).toBe(true);
    expect(reloader.current()).toEqual({
      buy_completion: [NEXT_BUY, TEST_SECRETS.BUY_WEBHOOK_SECRET],
      sell_completion: ['next-sell-secret-0123456789abcdef0123'],
      trade_status: [TEST_SECRETS.TRADE_WEBHOOK_SECRET],
      relworx_payment: [TEST_SECRETS.RELWORX_WEBHOOK_SECRET],
    });
    expect(logs.lines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'Webhook secrets reloaded',
        trigger: 'SIGHUP',
        secret_counts: { buy_completion: 2, sell_completion: 1, trade_status: 1, relworx_payment: 1 },
      }),
    ]);
    expect(logs.text.join('\n')).not.toMatch(/for-tests|next-buy|next-sell/);
  });

  it('picks up a change to the files without a signal, once', async () => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env);
    reloader.start();
    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: NEXT_BUY });

    await waitFor('the new buy secret', async () => (reloader.current().buy_completion[0] === NEXT_BUY ? true : undefined), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logs.lines).toEqual([expect.objectContaining({ msg: 'Webhook secrets reloaded', trigger: 'file_change' })]);
  });

  it('takes nothing and logs nothing while the files hold what they held at start', async () => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env);
    const before = reloader.current();
    reloader.start();
    volume.publish(TEST_SECRETS);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reloader.current()).toBe(before);
    expect(logs.lines).toEqual([]);
  });

  it('with a poll interval of 0, reads the files on a reload only', async () => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env, 0);
    reloader.start();
    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: NEXT_BUY });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reloader.current().buy_completion).toEqual([TEST_SECRETS.BUY_WEBHOOK_SECRET]);
    expect(logs.lines).toEqual([]);

    expect(reloader.reload('SIGHUP')).toBe(true);
    expect(reloader.current().buy_completion).toEqual([NEXT_BUY]);
  });

  it.each<[string, Partial<Record<SecretName, string>>, string]>([
    ['an empty file', { BUY_WEBHOOK_SECRET: '\n' }, 'BUY_WEBHOOK_SECRET is required (the secret of the buy-complete webhook)'],
    ['a whsec_ secret that is not base64', { SELL_WEBHOOK_SECRET: `${TEST_SECRETS.SELL_WEBHOOK_SECRET},whsec_not-base64!` }, 'SELL_WEBHOOK_SECRET: secret 2 of its 2 has the whsec prefix but is not valid base64'],
    ['a missing file', { RELWORX_WEBHOOK_SECRET: undefined }, 'RELWORX_WEBHOOK_SECRET_FILE names'],
    ['one secret per line', { BUY_WEBHOOK_SECRET: `next-buy-secret-0123456789abcdef0123\n${TEST_SECRETS.BUY_WEBHOOK_SECRET}\n` }, 'BUY_WEBHOOK_SECRET: its secret contains whitespace or a control character'],
    ['a file too large', { SELL_WEBHOOK_SECRET: `next-sell-${'x'.repeat(MAX_SECRET_FILE_BYTES)}` }, `which is larger than ${MAX_SECRET_FILE_BYTES} bytes`],
  ])('refuses a set with %s, keeping the one in force, logging the variable, not the value, and counting it', async (_name, change, problem) => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs, metrics } = reloaderFor(volume.env);
    const before = reloader.current();
    const next: Partial<Record<SecretName, string>> = { ...TEST_SECRETS, BUY_WEBHOOK_SECRET: NEXT_BUY, ...change };
    for (const name of Object.keys(next) as SecretName[]) if (next[name] === undefined) delete next[name];
    volume.publish(next);

    expect(reloader.reload('SIGHUP')).toBe(false);
    expect(reloader.current()).toBe(before);
    expect(logs.lines).toEqual([
      expect.objectContaining({ level: 50, msg: 'Refused the new webhook secrets; the ones in force stay', trigger: 'SIGHUP', problems: [expect.stringContaining(problem)] }),
    ]);
    expect(logs.text.join('\n')).not.toMatch(/for-tests|next-buy|next-sell|not-base64/);
    expect(await valueOf(metrics.secretReloadFailures, { trigger: 'SIGHUP' })).toBe(1);
  });

  it('takes a new secret shorter than 32 bytes, as start-up does, warning with its variable and position, not its value', () => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env);
    volume.publish({ ...TEST_SECRETS, TRADE_WEBHOOK_SECRET: `short-trade-secret,${TEST_SECRETS.TRADE_WEBHOOK_SECRET}` });

    expect(reloader.reload('SIGHUP')).toBe(true);
    expect(reloader.current().trade_status).toEqual(['short-trade-secret', TEST_SECRETS.TRADE_WEBHOOK_SECRET]);
    expect(logs.lines).toEqual([
      expect.objectContaining({ msg: 'Webhook secrets reloaded' }),
      expect.objectContaining({ level: 40, msg: 'Configuration warning', trigger: 'SIGHUP', warning: 'TRADE_WEBHOOK_SECRET: secret 1 of its 2 is shorter than 32 bytes' }),
    ]);
    expect(logs.text.join('\n')).not.toContain('short-trade');
  });

  it('keeps a short secret the set in force already holds: start-up only warned about it', () => {
    const short = { ...TEST_SECRETS, TRADE_WEBHOOK_SECRET: 'short-trade-secret' };
    const volume = secretVolume(short);
    const { reloader } = reloaderFor(volume.env);
    volume.publish({ ...short, TRADE_WEBHOOK_SECRET: `${'next-trade-secret-0123456789abcdef0123'},short-trade-secret` });

    expect(reloader.reload('SIGHUP')).toBe(true);
    expect(reloader.current().trade_status).toEqual(['next-trade-secret-0123456789abcdef0123', 'short-trade-secret']);
  });

  it('logs a refused file change once, not every poll, and takes the next good one', async () => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env);
    reloader.start();
    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: '' });
    await waitFor('the refusal', async () => (logs.lines.length > 0 ? true : undefined), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logs.messages()).toEqual(['Refused the new webhook secrets; the ones in force stay']);
    expect(reloader.current().buy_completion).toEqual([TEST_SECRETS.BUY_WEBHOOK_SECRET]);

    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: NEXT_BUY });
    await waitFor('the new buy secret', async () => (reloader.current().buy_completion[0] === NEXT_BUY ? true : undefined), 5_000);
    expect(logs.messages()).toEqual(['Refused the new webhook secrets; the ones in force stay', 'Webhook secrets reloaded']);
  });

  it('reads variables given inline again on reload, which a running process cannot have changed', () => {
    const { reloader, logs } = reloaderFor({ ...TEST_SECRETS });
    const before = reloader.current();
    expect(reloader.reload('SIGHUP')).toBe(true);
    expect(reloader.current()).toEqual(before);
    expect(logs.messages()).toEqual(['Webhook secrets reloaded']);
  });

  it('logs and counts a reading that throws, on a poll (once) and on SIGHUP, and keeps the secrets in force', async () => {
    const volume = secretVolume(TEST_SECRETS);
    let failing = false;
    // The one seam: the environment, which a reading consults first.
    const env = new Proxy(volume.env, {
      get(target, name) {
        if (failing) throw new RangeError('reading failed');
        return Reflect.get(target, name);
      },
    });
    const { reloader, logs, metrics } = reloaderFor(env);
    const before = reloader.current();
    reloader.start();
    failing = true;

    await waitFor('the failed poll', async () => ((await valueOf(metrics.secretReloadFailures, { trigger: 'file_change' })) === 1 ? true : undefined), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reloader.reload('SIGHUP')).toBe(false);
    expect(reloader.current()).toBe(before);
    expect(logs.lines).toEqual([
      expect.objectContaining({ level: 50, msg: 'Reading the webhook secrets failed; the ones in force stay', trigger: 'file_change', err: expect.objectContaining({ type: 'RangeError', message: 'reading failed' }) }),
      expect.objectContaining({ level: 50, msg: 'Reading the webhook secrets failed; the ones in force stay', trigger: 'SIGHUP' }),
    ]);
    expect(await valueOf(metrics.secretReloadFailures, { trigger: 'file_change' })).toBe(1);
    expect(await valueOf(metrics.secretReloadFailures, { trigger: 'SIGHUP' })).toBe(1);
  });

  it("removes the signature counts of a type whose secrets changed, keeping the others', and records when the set was taken", async () => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, metrics } = reloaderFor(volume.env);
    metrics.signatureVerified.inc({ type: 'buy_completion', secret: '0' }, 5);
    metrics.signatureVerified.inc({ type: 'sell_completion', secret: '0' }, 3);
    const takenAtStart = (await valueOf(metrics.secretsTakenAt))!;
    expect(takenAtStart).toBeGreaterThan(Date.now() / 1000 - 60);
    await new Promise((resolve) => setTimeout(resolve, 20));
    volume.publish({ ...TEST_SECRETS, BUY_WEBHOOK_SECRET: `${NEXT_BUY},${TEST_SECRETS.BUY_WEBHOOK_SECRET}` });

    expect(reloader.reload('SIGHUP')).toBe(true);
    expect(await valueOf(metrics.signatureVerified, { type: 'buy_completion' })).toBeUndefined();
    expect(await valueOf(metrics.signatureVerified, { type: 'sell_completion', secret: '0' })).toBe(3);
    expect(await valueOf(metrics.secretsTakenAt)).toBeGreaterThan(takenAtStart);
    expect(await valueOf(metrics.secretReloadFailures)).toBeUndefined();
  });
});

describe('secret reloader: files written in place', () => {
  const POLL_MS = 1000;
  const OLD = TEST_SECRETS.BUY_WEBHOOK_SECRET;
  const LONG_NEXT = 'next-buy-secret-'.padEnd(64, '0123456789abcdef');
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each([
    ['a new secret cut short (40 of its 64 bytes)', LONG_NEXT.slice(0, 40), LONG_NEXT, [LONG_NEXT]],
    ['a rotation caught before the old secret was written', `${NEXT_BUY},`, `${NEXT_BUY},${OLD}`, [NEXT_BUY, OLD]],
  ])('takes a change on the second poll that reads it alike, never %s', (_name, halfWritten, whole, expected) => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env, POLL_MS);
    reloader.start();

    writeFileSync(volume.env.BUY_WEBHOOK_SECRET_FILE!, halfWritten);
    jest.advanceTimersByTime(POLL_MS);
    expect(reloader.current().buy_completion).toEqual([OLD]);
    writeFileSync(volume.env.BUY_WEBHOOK_SECRET_FILE!, whole);
    jest.advanceTimersByTime(POLL_MS);
    expect(reloader.current().buy_completion).toEqual([OLD]);
    jest.advanceTimersByTime(POLL_MS);
    expect(reloader.current().buy_completion).toEqual(expected);
    expect(logs.messages()).toEqual(['Webhook secrets reloaded']);
  });
});
