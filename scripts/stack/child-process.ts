import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** A service of the stack, its output prefixed with its name so the two logs can be told apart. */
export interface StackChild {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

const COLORS: Record<string, string> = { receiver: '\x1b[36m', processor: '\x1b[35m' };

export function startChild(name: string, script: string, options: { cwd: string; env: NodeJS.ProcessEnv; color: boolean }): StackChild {
  // `node --import tsx`: one process per service, no wrapper that could outlive a signal.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = options.color && COLORS[name] ? `${COLORS[name]}[${name}]\x1b[0m ` : `[${name}] `;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${line}\n`));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    child,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
