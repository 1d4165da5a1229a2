import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup';

const FILES = { BUY_WEBHOOK_SECRET: 'buy', SELL_WEBHOOK_SECRET: 'sell', TRADE_WEBHOOK_SECRET: 'trade', RELWORX_WEBHOOK_SECRET: 'relworx' } as const;
export type SecretName = keyof typeof FILES;

/**
 * A directory laid out as the kubelet mounts a secret: each key a symlink through `..data`, and
 * an update a new timestamped directory that `..data` is switched to by a rename, all keys at once.
 * `env` holds the four `<NAME>_FILE` variables naming them; `publish` replaces what they hold.
 */
export function secretVolume(initial: Record<SecretName, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'secret-volume-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  let version = 0;
  const publish = (values: Partial<Record<SecretName, string>>): void => {
    version += 1;
    const data = `..${version}`;
    mkdirSync(join(dir, data));
    for (const [name, value] of Object.entries(values)) writeFileSync(join(dir, data, FILES[name as SecretName]), value);
    symlinkSync(data, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  publish(initial);
  for (const file of Object.values(FILES)) symlinkSync(join('..data', file), join(dir, file));
  const env = Object.fromEntries(Object.entries(FILES).map(([name, file]) => [`${name}_FILE`, join(dir, file)]));
  return { env, publish };
}
