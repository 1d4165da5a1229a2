import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(__dirname, '..', '..');

/** A TypeScript entry point of the project (the receiver, the processor, a bench helper) in a process of its own. */
export interface ProjectProcess {
  readonly child: ChildProcess;
  /** Its exit code once it has exited (null if a signal ended it). */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
  /** kill -9: no shutdown hook runs, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** Resident memory in MiB, now (VmRSS) or the peak so far (VmHWM); 0 once it has exited. */
  memoryMiB(which: 'now' | 'peak'): number;
}

/**
 * `node --import tsx <script>` from the project's root, stdout and stderr piped for the caller
 * to read: one process, no wrapper (npm, tsx's CLI) that could outlive a signal or hide the pid.
 */
export function startProjectProcess(script: string, env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): ProjectProcess {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let gone = false;
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => {
      gone = true;
      resolveExit(code);
    }),
  );
  const kill = async (): Promise<void> => {
    if (gone) return;
    child.kill('SIGKILL');
    await exited;
  };
  return {
    child,
    exited,
    hasExited: () => gone,
    async stop(graceMs) {
      if (gone) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(graceMs, undefined, { ref: false }).then(() => false)]);
      if (!done) await kill();
    },
    kill,
    memoryMiB(which) {
      if (gone) return 0;
      try {
        const field = which === 'now' ? 'VmRSS' : 'VmHWM';
        const kib = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        return Math.round(kib / 1024);
      } catch {
        return 0;
      }
    },
  };
}
