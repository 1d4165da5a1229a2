import { readFileSync } from 'node:fs';
import { cpuTicksOfStat, medianCpu, onePid, perThousand, startCpuWindow, ticksInWindow } from '../../scripts/bench/cpu-usage';

/** A /proc/<pid>/stat line as proc(5) lays it out, with the given name, utime and stime. */
function statLine(name: string, utime: number, stime: number): string {
  const afterName = ['S', '1', '100', '100', '0', '-1', '4194560', '2000', '0', '0', '0', String(utime), String(stime), '0', '0', '20', '0', '7', '0', '4242'];
  return `1234 (${name}) ${afterName.join(' ')}\n`;
}

describe('CPU time from /proc', () => {
  it('reads utime + stime of a stat line', () => {
    expect(cpuTicksOfStat(statLine('postgres', 120, 35))).toBe(155);
  });

  it('counts fields after the last parenthesis, whatever the command name holds', () => {
    expect(cpuTicksOfStat(statLine('a ) b (c) 1 2 3', 7, 5))).toBe(12);
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => cpuTicksOfStat('no parentheses here')).toThrow(/not a \/proc/);
  });

  it("reads this process's own stat in line with process.cpuUsage()", () => {
    const end = Date.now() + 100;
    while (Date.now() < end) Math.sqrt(Math.random());
    const ticks = cpuTicksOfStat(readFileSync('/proc/self/stat', 'utf8'));
    const { user, system } = process.cpuUsage();
    // Ticks are 10 ms on Linux's usual CLK_TCK of 100; the two reads are a few ms apart.
    expect(Math.abs(ticks * 10 - (user + system) / 1000)).toBeLessThan(50);
  });

  it('counts a pid new in the window from zero and leaves out one that exited', () => {
    const start = new Map([
      [1, 100],
      [2, 50],
    ]);
    const end = new Map([
      [1, 130],
      [3, 8],
    ]);
    expect(ticksInWindow(start, end)).toBe(38);
  });

  it('is null, not zero, when no process was there at the end', () => {
    expect(ticksInWindow(new Map([[1, 5]]), new Map())).toBeNull();
  });

  it('measures a busy window of this process as the bench and as a role', () => {
    const window = startCpuWindow({ self: onePid(process.pid), missing: onePid(undefined) });
    // Busy for 200 ms of CPU, not of the clock: on a loaded machine the clock runs ahead.
    const before = process.cpuUsage();
    const used = (): number => {
      const { user, system } = process.cpuUsage(before);
      return (user + system) / 1000;
    };
    while (used() < 200) Math.sqrt(Math.random());
    const cpu = window.stop();
    expect(cpu.bench).toBeGreaterThanOrEqual(200);
    // /proc counts in clock ticks, user and system time each rounded down.
    expect(cpu.self).toBeGreaterThanOrEqual(180);
    expect(cpu.missing).toBeNull();
  });
});

describe('CPU figures', () => {
  it('gives ms per 1,000 webhooks, keeping null for a process not found', () => {
    expect(perThousand({ receiver: 2500, broker: null }, 5000)).toEqual({ receiver: 500, broker: null });
  });

  it('takes the median of each process over the rounds where it was found', () => {
    expect(medianCpu([{ broker: 1, postgres: null }, { broker: 5, postgres: null }, { broker: 3, postgres: null }])).toEqual({ broker: 3, postgres: null });
    expect(medianCpu([{ broker: null }, { broker: 4 }])).toEqual({ broker: 4 });
  });
});
