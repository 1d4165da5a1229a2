import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { median, round } from './stats';

/** CPU milliseconds per process role; null: the process was not found (not running, or out of sight in a VM). */
export type CpuMs = Record<string, number | null>;

/** The pids that make up one role now: a child, every PostgreSQL process, the Kafka broker. */
export type PidFinder = () => number[];

/**
 * utime + stime, in clock ticks, from a /proc/<pid>/stat line (proc(5)). Field 2, the command
 * name in parentheses, may itself hold spaces and parentheses, so the fields are counted from
 * the last ')': state (field 3) comes first, utime (14) and stime (15) eleven and twelve later.
 */
export function cpuTicksOfStat(stat: string): number {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (close < 0 || !Number.isFinite(ticks)) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  return ticks;
}

/**
 * Ticks spent in a window by the pids present at its end, a pid new in the window counting from
 * 0. A process that exited within the window is lost with what it spent (a PostgreSQL backend
 * of a pool that closed): the figure is a lower bound. Null when no pid was present at the end.
 */
export function ticksInWindow(start: ReadonlyMap<number, number>, end: ReadonlyMap<number, number>): number | null {
  if (end.size === 0) return null;
  let ticks = 0;
  for (const [pid, now] of end) ticks += now - (start.get(pid) ?? 0);
  return ticks;
}

/** CPU ms per 1,000 webhooks handled; null stays null. */
export function perThousand(cpu: CpuMs, handled: number): CpuMs {
  return Object.fromEntries(Object.entries(cpu).map(([role, ms]) => [role, ms === null || handled === 0 ? null : round((ms * 1000) / handled, 1)]));
}

/** The median of each role over rounds, leaving out rounds where it was not found; null if never found. */
export function medianCpu(rounds: readonly CpuMs[]): CpuMs {
  const roles = [...new Set(rounds.flatMap((cpu) => Object.keys(cpu)))];
  return Object.fromEntries(
    roles.map((role) => {
      const found = rounds.map((cpu) => cpu[role]).filter((ms): ms is number => typeof ms === 'number');
      return [role, found.length === 0 ? null : round(median(found), 1)];
    }),
  );
}

let clockTicks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`), asked once. */
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** One pid, while it runs. */
export function onePid(pid: number | undefined): PidFinder {
  return () => (pid !== undefined && readProc(pid, 'stat') !== undefined ? [pid] : []);
}

/*
 * The broker and PostgreSQL are found machine-wide: on a shared machine their figures include
 * other users' topics and databases. The pipe floor touches no database, so its PostgreSQL
 * figure shows that background.
 */

/** The Kafka broker: the JVM whose main class (an argument of its command line) is kafka.Kafka. */
export const kafkaBrokerPids: PidFinder = () => allPids().filter((pid) => readProc(pid, 'cmdline')?.split('\0').includes('kafka.Kafka'));

/** Every PostgreSQL process: the postmaster, its background workers and the backends. */
export const postgresPids: PidFinder = () => allPids().filter((pid) => readProc(pid, 'comm')?.trim() === 'postgres');

function snapshot(pids: number[]): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    const stat = readProc(pid, 'stat');
    if (stat !== undefined) ticks.set(pid, cpuTicksOfStat(stat));
  }
  return ticks;
}

/**
 * CPU time of each role's processes from now until `stop`, and of this process (the bench
 * client) from process.cpuUsage(). Each role's pids are looked up again at the end, so a
 * backend that a pool opened in the window counts.
 */
export function startCpuWindow(roles: Record<string, PidFinder>): { stop(): CpuMs } {
  const starts = Object.entries(roles).map(([role, find]) => [role, find, snapshot(find())] as const);
  const bench = process.cpuUsage();
  return {
    stop() {
      const cpu: CpuMs = {};
      for (const [role, find, start] of starts) {
        const ticks = ticksInWindow(start, snapshot(find()));
        cpu[role] = ticks === null ? null : (ticks * 1000) / ticksPerSecond();
      }
      const used = process.cpuUsage(bench);
      cpu.bench = (used.user + used.system) / 1000;
      return cpu;
    },
  };
}

/** The services' roles around the project's own processes: the receiver and processor children when running, the broker, PostgreSQL. */
export function serviceRoles(children: { receiver?: number; processor?: number }): Record<string, PidFinder> {
  return { receiver: onePid(children.receiver), processor: onePid(children.processor), broker: kafkaBrokerPids, postgres: postgresPids };
}
