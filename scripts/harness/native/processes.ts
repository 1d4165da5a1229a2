import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A background service this clone started: its pid is kept in `<stateDir>/run/<name>.pid`
 * with a marker that must appear in its command line, so a recycled pid is never signalled.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** What its command line holds: which of the clone's services it is, and from where. */
  readonly marker: string;
}

interface PidRecord {
  pid: number;
  marker: string;
}

function pidFile(stateDir: string, name: string): string {
  return join(stateDir, 'run', `${name}.pid`);
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

function readRecord(stateDir: string, name: string): PidRecord | undefined {
  const file = pidFile(stateDir, name);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

function isOurs(record: PidRecord): boolean {
  return commandLine(record.pid)?.includes(record.marker) ?? false;
}

/** The process `name` if this clone started it and it still runs. */
export function runningProcess(stateDir: string, name: string): ManagedProcess | undefined {
  const record = readRecord(stateDir, name);
  return record && isOurs(record) ? { name, pid: record.pid, marker: record.marker } : undefined;
}

/** Running, and not a zombie waiting for its parent to reap it. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function startProcess(options: {
  stateDir: string;
  name: string;
  command: string;
  args: string[];
  cwd: string;
  marker: string;
  env?: NodeJS.ProcessEnv;
}): ManagedProcess {
  mkdirSync(join(options.stateDir, 'run'), { recursive: true });
  mkdirSync(join(options.stateDir, 'logs'), { recursive: true });
  const logPath = join(options.stateDir, 'logs', `${options.name}.log`);
  const log = openSync(logPath, 'a');
  try {
    // Its own process group (detached), so a Ctrl-C in the terminal that ran `services:up` does not reach it.
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
    child.unref();
    writeFileSync(pidFile(options.stateDir, options.name), JSON.stringify({ pid: child.pid, marker: options.marker }));
    return { name: options.name, pid: child.pid, marker: options.marker };
  } finally {
    closeSync(log);
  }
}

export function logFile(stateDir: string, name: string): string {
  return join(stateDir, 'logs', `${name}.log`);
}

/** SIGTERM, then SIGKILL after `graceMs`; returns whether it had been running. */
export async function stopProcess(stateDir: string, name: string, graceMs = 20_000): Promise<boolean> {
  const record = readRecord(stateDir, name);
  rmSync(pidFile(stateDir, name), { force: true });
  if (!record || !isOurs(record)) return false;
  signal(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(record.pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(record.pid)) {
    signal(record.pid, 'SIGKILL');
    while (isAlive(record.pid)) await sleep(50);
  }
  return true;
}

/** SIGKILL, as in a crash: no shutdown hook runs. Resolves once it is gone; returns whether it had been running. */
export async function killProcess(stateDir: string, name: string): Promise<boolean> {
  const record = readRecord(stateDir, name);
  rmSync(pidFile(stateDir, name), { force: true });
  if (!record || !isOurs(record)) return false;
  signal(record.pid, 'SIGKILL');
  while (isAlive(record.pid)) await sleep(20);
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    // The whole group: a service's own children go with it.
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
}
