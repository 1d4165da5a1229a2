import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from './cleanup';

const root = join(__dirname, '..', '..');

/** The receiver or the processor as a real process of its own, that a test can kill -9. */
export interface ServiceProcess {
  readonly name: string;
  start(): Promise<void>;
  /** kill -9: no shutdown hook runs, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  rssMiB(): number;
  output(): string;
}

export function serviceProcess(name: 'receiver' | 'processor', env: NodeJS.ProcessEnv, readyUrl: string): ServiceProcess {
  let child: ChildProcess | undefined;
  let output = '';
  const exited = (process: ChildProcess) =>
    process.exitCode !== null || process.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => process.once('exit', () => resolve()));
  const handle: ServiceProcess = {
    name,
    async start() {
      const started = spawn(process.execPath, ['--import', 'tsx', `${name}/main.ts`], { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      started.stdout!.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
      started.stderr!.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (started.exitCode !== null) throw new Error(`${name} exited with ${started.exitCode}: ${output.slice(-2000)}`);
        const ready = await fetch(readyUrl).then((response) => response.status === 200, () => false);
        if (ready) return;
        if (Date.now() > deadline) throw new Error(`${name} not ready in 60 s: ${output.slice(-2000)}`);
        await sleep(100);
      }
    },
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited(child), sleep(20_000)]);
      if (child.exitCode === null && child.signalCode === null) await handle.kill();
    },
    rssMiB() {
      try {
        return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child?.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
      } catch {
        return 0;
      }
    },
    output: () => output,
  };
  onCleanup(() => handle.kill());
  return handle;
}
