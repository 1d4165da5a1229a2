import { createLogger } from '../../platform/logger';
import { readReceiverConfig } from '../../receiver/config';
import { createSecretReloader, type SecretReloader } from '../../receiver/secret-reloader';
import { onCleanup } from '../support/cleanup';
import { CapturedLogs, TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { secretVolume, type SecretName } from '../support/secret-volume';
import { waitFor } from '../support/wait-for';

const NEXT_BUY = 'next-buy-secret-0123456789abcdef0123';

/** A reloader over `env`, started from the configuration read from it, logging into `logs`. */
function reloaderFor(env: NodeJS.ProcessEnv, pollMs = 20): { reloader: SecretReloader; logs: CapturedLogs } {
  const config = readReceiverConfig({ RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL, ...env });
  const logs = new CapturedLogs();
  const reloader = createSecretReloader({ env, initial: config.secrets, logger: createLogger({ level: 'info', name: 'receiver' }, logs), pollMs });
  onCleanup(() => reloader.stop());
  return { reloader, logs };
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
    ['a new secret shorter than 32 bytes', { TRADE_WEBHOOK_SECRET: 'short-trade-secret' }, 'TRADE_WEBHOOK_SECRET: its secret is new and shorter than 32 bytes'],
    ['a missing file', { RELWORX_WEBHOOK_SECRET: undefined }, 'RELWORX_WEBHOOK_SECRET_FILE names'],
  ])('refuses a set with %s, keeping the one in force and logging the variable, not the value', (_name, change, problem) => {
    const volume = secretVolume(TEST_SECRETS);
    const { reloader, logs } = reloaderFor(volume.env);
    const before = reloader.current();
    const next: Partial<Record<SecretName, string>> = { ...TEST_SECRETS, BUY_WEBHOOK_SECRET: NEXT_BUY, ...change };
    for (const name of Object.keys(next) as SecretName[]) if (next[name] === undefined) delete next[name];
    volume.publish(next);

    expect(reloader.reload('SIGHUP')).toBe(false);
    expect(reloader.current()).toBe(before);
    expect(logs.lines).toEqual([
      expect.objectContaining({ level: 50, msg: 'Refused the new webhook secrets; the ones in force stay', trigger: 'SIGHUP', problems: [expect.stringContaining(problem)] }),
    ]);
    expect(logs.text.join('\n')).not.toMatch(/for-tests|next-buy|short-trade|not-base64/);
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
});
