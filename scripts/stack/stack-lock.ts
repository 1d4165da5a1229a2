import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive } from '../harness/native/processes';

/**
 * One stack per clone: a second `npm run stack` finds the first one's pid here and says so
 * instead of fighting over ports.
 */
export function acquireStackLock(file: string): { ok: true; release: () => void } | { ok: false; pid: number } {
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) return { ok: false, pid };
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, String(process.pid));
  return {
    ok: true,
    release: () => {
      if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    },
  };
}
